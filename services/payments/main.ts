import '../../runtime/telemetry/register'; // first: tracing patches express and pg as they load
import { loadServiceConfig } from '../shared/config';
import { runServiceMain } from '../shared/main';
import { paymentsService } from './service';

runServiceMain(paymentsService, loadServiceConfig);
