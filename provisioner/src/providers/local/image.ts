/**
 * The local provider's image rule: an image whose repository (the last path segment before the tag or digest)
 * is `app-runtime` runs the reference runtime in `app-runtime/` — `app-runtime:1.0.0`,
 * `localhost/app-runtime:2`, `registry.example/ttd/app-runtime@sha256:...`. Any other image cannot be
 * "pulled": its rollout fails with reason `ImagePullFailed` and traffic stays on the running release.
 */
export function runsReferenceRuntime(image: string): boolean {
  const withoutDigest = image.split('@')[0]!;
  const lastSegment = withoutDigest.split('/').pop() ?? '';
  const repository = lastSegment.split(':')[0];
  return repository === 'app-runtime';
}
