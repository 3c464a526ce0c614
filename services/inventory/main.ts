import '../../runtime/telemetry/register'; // first: tracing patches express and pg as they load
import { loadServiceConfig } from '../shared/config';
import { runServiceMain } from '../shared/main';
import { inventoryService } from './service';

runServiceMain(inventoryService, loadServiceConfig);
