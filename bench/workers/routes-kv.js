// Backing service of the edge's ROUTES binding: an in-memory store speaking the HTTP protocol that
// workerd's `kvNamespace` binding sends to its service (the one miniflare's KV object implements):
//   GET    /{key}?urlencoded=true  -> value, or 404
//   PUT    /{key}?urlencoded=true  -> stores the body
//   DELETE /{key}?urlencoded=true
//   GET    /?prefix=&key_count_limit=&cursor= -> {"keys":[{"name"}],"list_complete":true}
// Values live in this isolate's memory, so the admin API's writes last as long as the workerd process.
const store = new Map();

function keyOf(url) {
  const raw = url.pathname.slice(1);
  return url.searchParams.get('urlencoded')?.toLowerCase() === 'true' ? decodeURIComponent(raw) : raw;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/' && request.method === 'GET') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const limit = Number(url.searchParams.get('key_count_limit') ?? '1000');
      const names = [...store.keys()]
        .filter((k) => k.startsWith(prefix))
        .sort()
        .slice(0, limit);
      return Response.json({ keys: names.map((name) => ({ name })), list_complete: true, cacheStatus: null });
    }
    const key = keyOf(url);
    switch (request.method) {
      case 'GET': {
        const value = store.get(key);
        return value === undefined ? new Response('Not Found', { status: 404 }) : new Response(value);
      }
      case 'PUT':
        store.set(key, await request.text());
        return new Response(null);
      case 'DELETE':
        store.delete(key);
        return new Response(null);
      default:
        return new Response('Method Not Allowed', { status: 405 });
    }
  },
};
