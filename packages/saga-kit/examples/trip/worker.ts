// worker.ts
import { NativeConnection, Worker } from '@temporalio/worker';
import { sagaWorkerOptions } from 'temporal-saga-kit/worker';
import { activities } from './activities';

void (async () => {
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  const kit = sagaWorkerOptions({ workflowsPath: require.resolve('./saga'), activities });
  const worker = await Worker.create({ connection, taskQueue: 'trips', ...kit });
  console.log('worker ready');
  await worker.run(); // until Ctrl-C; a failure to start ends the process with its error
})();
