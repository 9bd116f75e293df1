import { Hono } from 'hono';
import { egressAdmin } from '../egress/admin';
import type { EdgeEnv } from '../env';
import { consumersAdmin, metricsAdmin, plansAdmin } from '../sla/admin';
import { adminAuth } from './auth';
import { adminMode } from './mode';
import { routesAdmin } from './routes';

/** The `/_edge` admin API: everything but `health` needs the admin token; all of it a token production accepts. */
export const admin = new Hono<EdgeEnv>();

admin.use('*', adminMode);

admin.get('/health', (c) => c.json({ status: 'ok' }));
admin.use('/routes', adminAuth);
admin.use('/routes/*', adminAuth);
admin.route('/routes', routesAdmin);
admin.use('/egress/*', adminAuth);
admin.route('/egress', egressAdmin);
admin.use('/plans', adminAuth);
admin.use('/plans/*', adminAuth);
admin.route('/plans', plansAdmin);
admin.use('/consumers', adminAuth);
admin.use('/consumers/*', adminAuth);
admin.route('/consumers', consumersAdmin);
admin.use('/metrics', adminAuth);
admin.route('/metrics', metricsAdmin);
