import { loadServiceConfig } from '../shared/config';
import { runServiceMain } from '../shared/main';
import { paymentsService } from './service';

runServiceMain(paymentsService, loadServiceConfig);
