import { Hono } from 'hono';
import { admin } from './admin';
import type { EdgeEnv } from './env';
import { onError, onNotFound } from './problem';
import { proxyToApp } from './proxy';
import { requestId } from './request';

/** The edge Worker: admin API under `/_edge`, every app under `/{org}/{app}`. */
const app = new Hono<EdgeEnv>();

app.use('*', requestId);
app.route('/_edge', admin);
app.all('/:org/:app', proxyToApp);
app.all('/:org/:app/*', proxyToApp);
app.onError(onError);
app.notFound(onNotFound);

export default app;
