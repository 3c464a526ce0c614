-- Money and stock arithmetic that cannot overflow, and CHECK constraints behind the zod bounds
-- (services/shared/fields.ts). The columns stay INTEGER (Prisma maps them to JS numbers, JSON-safe): what does not fit
-- is refused, as a business answer, before anything is written.
--
-- An order's total, sum(quantity × price_cents), was computed in INTEGER: 10,000 units of a product priced over
-- 214,748.36 overflowed (SQLSTATE 22003), which the error contract answers 500, so the saga retried a request that
-- can never succeed. It is now computed as NUMERIC, and a total above the largest amount one payment may charge
-- (MAX_CENTS in fields.ts, passed in by services/inventory/inventory.ts) is refused: 422 amount_too_large, before the
-- saga reaches its pivot (the charge), which would refuse the amount anyway.
--
-- The stock counters move between each other (available → held → sold → available), so every counter stays within
-- available + held + sold. A CHECK keeps that sum within INTEGER: then no move (reserve, confirm, release, restock)
-- can overflow, and confirm and restock, which must not be refused (they run after their saga's pivot), never are.
-- Whoever puts stock on the shelf beyond it (SQL, a top-up) is refused at that write instead.

ALTER TABLE "products"
  ADD CONSTRAINT "products_price_cents_positive" CHECK ("price_cents" > 0),
  ADD CONSTRAINT "products_available_not_negative" CHECK ("available" >= 0),
  ADD CONSTRAINT "products_held_not_negative" CHECK ("held" >= 0),
  ADD CONSTRAINT "products_sold_not_negative" CHECK ("sold" >= 0),
  ADD CONSTRAINT "products_stock_fits_integer" CHECK ("available"::bigint + "held" + "sold" <= 2147483647);

ALTER TABLE "reservation_lines"
  ADD CONSTRAINT "reservation_lines_quantity_positive" CHECK ("quantity" > 0),
  ADD CONSTRAINT "reservation_lines_unit_price_cents_positive" CHECK ("unit_price_cents" > 0);

-- A release's tombstone has no lines and a total of 0.
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_total_cents_not_negative" CHECK ("total_cents" >= 0);

-- As before, with the total computed without overflow and bounded by p_max_total_cents. The signature changes, so the
-- old function is dropped rather than left behind with its INTEGER arithmetic.
DROP FUNCTION "inventory_reserve"(TEXT, TEXT, TEXT, JSONB);

CREATE FUNCTION "inventory_reserve"(p_key TEXT, p_hash TEXT, p_order_id TEXT, p_items JSONB, p_max_total_cents INTEGER)
RETURNS "idempotent_response" LANGUAGE plpgsql AS $$
DECLARE
  earlier "idempotent_response" := "idempotency_claim"(p_key, 'reserve', p_hash);
  v_unknown TEXT;
  total NUMERIC;
  v_existing "ReservationStatus";
  item RECORD;
BEGIN
  IF earlier."replayed" THEN RETURN earlier; END IF;
  SELECT string_agg(i."sku", ', ' ORDER BY i."n") FILTER (WHERE p."sku" IS NULL), COALESCE(sum(i."quantity"::numeric * p."price_cents"), 0)
  INTO v_unknown, total
  FROM ROWS FROM (jsonb_to_recordset(p_items) AS ("sku" TEXT, "quantity" INTEGER)) WITH ORDINALITY AS i("sku", "quantity", "n")
  LEFT JOIN "products" p ON p."sku" = i."sku";

  -- One reservation per order: a second request for the order (another key), or one after its release's tombstone,
  -- inserts nothing (after waiting for a concurrent insert to commit) and is refused. The stored total is capped so
  -- that the insert itself cannot overflow; a total above the cap is refused below, which rolls the row back.
  INSERT INTO "reservations" ("order_id", "status", "total_cents", "created_at", "updated_at")
  VALUES (p_order_id, 'PENDING', LEAST(total, p_max_total_cents), "utc_now"(), "utc_now"())
  ON CONFLICT ("order_id") DO NOTHING;
  IF NOT FOUND THEN
    SELECT "status" INTO v_existing FROM "reservations" WHERE "order_id" = p_order_id;
    PERFORM "http_error"(409, 'illegal_transition', format('order %s already has a reservation in status %s', p_order_id, v_existing),
      jsonb_build_object('status', v_existing));
  END IF;
  IF v_unknown IS NOT NULL THEN
    PERFORM "http_error"(404, 'unknown_sku', 'unknown SKU: ' || v_unknown);
  END IF;

  -- The row lock plus the re-checked predicate make "the last unit" go to exactly one request.
  FOR item IN SELECT * FROM jsonb_to_recordset(p_items) AS i("sku" TEXT, "quantity" INTEGER) ORDER BY i."sku" LOOP
    UPDATE "products"
    SET "available" = "available" - item."quantity", "held" = "held" + item."quantity", "updated_at" = "utc_now"()
    WHERE "sku" = item."sku" AND "available" >= item."quantity";
    IF NOT FOUND THEN
      PERFORM "http_error"(422, 'insufficient_stock',
        format('insufficient stock for %s: %s requested, %s available', item."sku", item."quantity", p."available"),
        jsonb_build_object('sku', item."sku", 'requested', item."quantity", 'available', p."available"))
      FROM "products" p WHERE p."sku" = item."sku";
    END IF;
  END LOOP;
  -- Last, so that every request refused before this change gets the same answer as before.
  IF total > p_max_total_cents THEN
    PERFORM "http_error"(422, 'amount_too_large',
      format('the order''s total of %s cents exceeds %s cents, the largest amount one payment may charge', total, p_max_total_cents),
      jsonb_build_object('totalCents', total, 'maxCents', p_max_total_cents));
  END IF;
  INSERT INTO "reservation_lines" ("order_id", "sku", "quantity", "unit_price_cents")
  SELECT p_order_id, i."sku", i."quantity", p."price_cents"
  FROM jsonb_to_recordset(p_items) AS i("sku" TEXT, "quantity" INTEGER) JOIN "products" p ON p."sku" = i."sku";
  RETURN "idempotency_store"(p_key, 201, "reservation_json"(p_order_id));
END $$;
