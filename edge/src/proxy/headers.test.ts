import { describe, expect, it } from 'vitest';
import { appendVia, forwardedNode, setForwarding, stripHopByHop, viaNames } from './headers';

describe('stripHopByHop', () => {
  it('removes the fixed hop-by-hop set and every field Connection names, case-insensitively', () => {
    const h = new Headers({
      Connection: 'Keep-Alive, X-Hop-One,x-hop-two , ',
      'Keep-Alive': 'timeout=5',
      'X-Hop-One': '1',
      'X-Hop-Two': '2',
      'Proxy-Connection': 'keep-alive',
      TE: 'trailers',
      Upgrade: 'h2c',
      'Proxy-Authorization': 'Basic eA==',
      'Proxy-Authenticate': 'Basic',
      'X-End': 'kept',
    });
    stripHopByHop(h);
    expect([...h.keys()]).toEqual(['x-end']);
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
    const h = new Headers({ via: '1.0 fred' });
    appendVia(h, 'edge');
    expect(h.get('via')).toBe('1.0 fred, 1.1 edge');
  });
});

describe('Forwarded', () => {
  it('brackets and quotes IPv6 nodes and says unknown without an address', () => {
    expect(forwardedNode('192.0.2.1')).toBe('192.0.2.1');
    expect(forwardedNode('2001:db8::1')).toBe('"[2001:db8::1]"');
    expect(forwardedNode(undefined)).toBe('unknown');
  });

  it('replaces every client-sent identity field and quotes a host with a port', () => {
    const h = new Headers({
      forwarded: 'for=1.1.1.1',
      'x-forwarded-for': '1.1.1.1',
      'x-real-ip': '1.1.1.1',
      'client-ip': '1.1.1.1',
    });
    setForwarding(h, { ip: '192.0.2.9', proto: 'https', host: 'edge.example:8443' });
    expect(h.get('forwarded')).toBe('for=192.0.2.9;host="edge.example:8443";proto=https');
    expect(h.get('x-forwarded-for')).toBe('192.0.2.9');
    expect(h.get('x-real-ip')).toBeNull();
    expect(h.get('client-ip')).toBeNull();
  });
});
