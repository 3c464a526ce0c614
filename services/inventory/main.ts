import { loadServiceConfig } from '../shared/config';
import { runServiceMain } from '../shared/main';
import { inventoryService } from './service';

runServiceMain(inventoryService, loadServiceConfig);
