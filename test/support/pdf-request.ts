/**
 * The body app-lib's `PdfGeneratorClient.GeneratePdf` posts (`PdfGeneratorRequest`, System.Text.Json camelCase in
 * declared order): the app's print page, A4 with its margins, wait for `#readyForPrint`, and the user's
 * AltinnStudioRuntime cookie for the page's host.
 */
export function pdfGeneratorRequest(url: string, token: string): Record<string, unknown> {
  return {
    url,
    options: {
      displayHeaderFooter: false,
      headerTemplate: '<div/>',
      footerTemplate: '<div/>',
      printBackground: true,
      format: 'A4',
      margin: { top: '0.75in', left: '0.75in', bottom: '0.75in', right: '0.75in' },
    },
    setJavaScriptEnabled: true,
    waitFor: '#readyForPrint',
    cookies: [{ name: 'AltinnStudioRuntime', value: token, domain: new URL(url).hostname, sameSite: 'Lax' }],
  };
}
