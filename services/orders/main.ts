import { loadServiceConfig } from '../shared/config';
import { runServiceMain } from '../shared/main';
import { ordersService } from './service';

runServiceMain(ordersService, loadServiceConfig);
