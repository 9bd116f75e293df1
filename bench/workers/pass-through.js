// The runtime's floor: the least a Worker can do to pass a request through to the upstream.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(`${env.UPSTREAM}${url.pathname}${url.search}`, request);
  },
};
