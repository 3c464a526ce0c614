// worker.ts
import { NativeConnection, Worker } from '@temporalio/worker';
import { sagaWorkerOptions } from 'temporal-saga-kit/worker';
import { activities } from './activities';

async function main() {
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  const worker = await Worker.create({
    connection,
    taskQueue: 'trips',
    ...sagaWorkerOptions({ workflowsPath: require.resolve('./saga'), activities }),
  });
  console.log('worker ready');
  await worker.run(); // until Ctrl-C
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
