import { describe, expect, it } from 'vitest';
import {
  dropFields,
  forwardedNode,
  REQUEST_DROPPED,
  RESPONSE_DROPPED,
  setForwarding,
  viaNames,
  viaWith,
} from './headers';

describe('dropFields', () => {
  it('removes the hop-by-hop set and every field Connection names, case-insensitively', () => {
    const h = new Headers({
      Connection: 'Keep-Alive, X-Hop-One,x-hop-two , ',
      'Keep-Alive': 'timeout=5',
      'X-Hop-One': '1',
      'X-Hop-Two': '2',
      'Proxy-Connection': 'keep-alive',
      TE: 'trailers',
      Trailer: 'x-sum',
      'Transfer-Encoding': 'chunked',
      Upgrade: 'h2c',
      'Proxy-Authorization': 'Basic eA==',
      'Proxy-Authenticate': 'Basic',
      'X-End': 'kept',
    });
    dropFields(h, RESPONSE_DROPPED);
    expect([...h.keys()]).toEqual(['x-end']);
  });

  it('removes each field a malformed Connection names, and never throws on a name Headers refuses', () => {
    const h = new Headers({
      Connection: 'x-one x-two;q=1, (x-three), {bad}',
      'X-One': '1',
      'X-Two': '2',
      'X-Three': '3',
      'X-End': 'kept',
    });
    dropFields(h, RESPONSE_DROPPED);
    expect([...h.keys()]).toEqual(['x-end']);
  });

  it('with setForwarding, leaves no client-sent identity field in a request', () => {
    const h = new Headers({
      forwarded: 'for=1.1.1.1',
      'x-forwarded-for': '1.1.1.1',
      'x-forwarded-proto': 'gopher',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-port': '1',
      'x-forwarded-prefix': '/evil',
      'x-real-ip': '1.1.1.1',
      'true-client-ip': '1.1.1.1',
      'x-client-ip': '1.1.1.1',
      'client-ip': '1.1.1.1',
      'cf-connecting-ip': '1.1.1.1',
      host: 'edge.example',
      accept: 'text/html',
    });
    dropFields(h, REQUEST_DROPPED);
    setForwarding(h, { ip: undefined, proto: 'https', host: 'edge.example' });
    expect(Object.fromEntries(h)).toEqual({
      accept: 'text/html',
      forwarded: 'for=unknown;host=edge.example;proto=https',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'edge.example',
    });
  });

  it('keeps repeated Set-Cookie fields apart', () => {
    const h = new Headers();
    h.append('set-cookie', 'a=1');
    h.append('set-cookie', 'b=2');
    dropFields(h, RESPONSE_DROPPED);
    expect(h.getAll('set-cookie')).toEqual(['a=1', 'b=2']);
  });
});

describe('Via', () => {
  it('recognises its own pseudonym among several entries, with or without a comment', () => {
    expect(viaNames('1.0 fred, 1.1 altinn-edge (Cloudflare)', 'altinn-edge')).toBe(true);
    expect(viaNames('1.1 altinn-edge-2', 'altinn-edge')).toBe(false);
    expect(viaNames('1.1 other', 'altinn-edge')).toBe(false);
    expect(viaNames(null, 'altinn-edge')).toBe(false);
  });

  it('appends to an existing Via', () => {
    expect(viaWith('1.0 fred', 'edge')).toBe('1.0 fred, 1.1 edge');
    expect(viaWith(null, 'edge')).toBe('1.1 edge');
  });
});

describe('Forwarded', () => {
  it('brackets and quotes IPv6 nodes and says unknown without an address', () => {
    expect(forwardedNode('192.0.2.1')).toBe('192.0.2.1');
    expect(forwardedNode('2001:db8::1')).toBe('"[2001:db8::1]"');
    expect(forwardedNode(undefined)).toBe('unknown');
  });

  it('quotes a host with a port', () => {
    const h = new Headers();
    setForwarding(h, { ip: '192.0.2.9', proto: 'https', host: 'edge.example:8443' });
    expect(h.get('forwarded')).toBe('for=192.0.2.9;host="edge.example:8443";proto=https');
    expect(h.get('x-forwarded-for')).toBe('192.0.2.9');
  });
});
