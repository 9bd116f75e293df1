import { Hono } from 'hono';
import { admin } from './admin';
import { egress } from './egress';
import type { EdgeEnv } from './env';
import { onError, onNotFound } from './problem';
import { requestId } from './request';

/** The edge's own endpoints (`/_edge/...`) and the 404 of every path that names no app. */
export const edgeApp = new Hono<EdgeEnv>();
edgeApp.use('*', requestId);
edgeApp.route('/_edge', admin);
edgeApp.route('/_egress', egress);
edgeApp.onError(onError);
edgeApp.notFound(onNotFound);
