// start.ts
import { Client, Connection } from '@temporalio/client';
import { SagaClient } from 'temporal-saga-kit/client';
import { trip } from './saga';

async function main() {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  const client = new Client({ connection, interceptors: SagaClient.interceptors });
  const sagas = new SagaClient({ client, sagas: [trip], taskQueue: 'trips' });
  for (const input of [
    { id: 'trip-1', card: 'ok' },
    { id: 'trip-2', card: 'declined' },
  ]) {
    await sagas.start(trip, input);
    const ended = await sagas.result(input.id);
    const state = await sagas.state(input.id);
    const undone = state.compensations.map((c) => c.name).join(' → ') || 'nothing';
    console.log(`${input.id}: ${state.status} ${JSON.stringify(ended)}; compensated: ${undone}`);
  }
  await connection.close();
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
