import { defineConfig } from 'prisma/config';
export default defineConfig({
  schema: 'schema.prisma',
  migrations: { path: 'migrations' },
  datasource: { url: process.env.PAYMENTS_DATABASE_URL ?? '' },
});
