-- A CHECK constraint behind the zod bound on quantities (services/shared/fields.ts): no path, SQL included, can store
-- an order line of zero or negative units. Orders does no arithmetic on money or stock.
ALTER TABLE "order_lines" ADD CONSTRAINT "order_lines_quantity_positive" CHECK ("quantity" > 0);
