import { loadServiceConfig } from '../shared/config';
import { runServiceMain } from '../shared/main';
import { shippingService } from './service';

runServiceMain(shippingService, loadServiceConfig);
