/** nginx as a reference reverse proxy: one worker process, upstream keepalive, no access log. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Supervised, startChild } from '../scripts/processes.js';
import { pinnedTo } from './pinning.js';

/** Path of the nginx binary, or undefined when nginx is not installed. */
export function findNginx(): string | undefined {
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** An nginx config proxying 127.0.0.1:`port` to the upstream with pooled HTTP/1.1 connections. */
export function nginxConfig(port: number, upstreamPort: number, prefix: string): string {
  return `daemon off;
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  upstream app {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering on;
    }
  }
}
`;
}

/** Writes the config into `prefix` and starts nginx in the foreground (master plus one worker). */
export function startNginx(
  binary: string,
  port: number,
  upstreamPort: number,
  prefix: string,
  logDir: string,
): Supervised {
  mkdirSync(prefix, { recursive: true });
  const configPath = join(prefix, 'nginx.conf');
  writeFileSync(configPath, nginxConfig(port, upstreamPort, prefix));
  return startChild('nginx', binary, ['-p', prefix, '-c', configPath], { logDir, ...pinnedTo('proxy') });
}
