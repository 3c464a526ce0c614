import { returnSaga } from '../../workflows/return-saga';
import type { SagaCliAdapter } from './adapter';
import { formatCents } from './order';

/** `start return`: the return of an approved, delivered order, from --order and --reason (--return names it). */
export const returnCli: SagaCliAdapter<typeof returnSaga> = {
  saga: returnSaga,
  options: (command) =>
    command
      .option('--return <id>', 'return id, also the workflow id (default: ret- and the order id)')
      .requiredOption('--order <id>', 'the approved, delivered order to return')
      .requiredOption('--reason <text>', "the customer's reason (one line, at most 500 characters)"),
  input: (o) => ({
    returnId: (o.return as string | undefined) ?? `ret-${o.order as string}`,
    orderId: o.order as string,
    reason: o.reason as string,
  }),
  facts: (data) => (typeof data.refundedCents === 'number' ? [`refunded ${formatCents(data.refundedCents)}`] : []),
  examples: `
  tsx client.ts start return --order ord-42 --reason "does not fit" --wait
  tsx client.ts start return --return ret-42b --order ord-42 --reason "broken" --fault book-return-pickup=delay:5000`,
};
