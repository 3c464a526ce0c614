-- CreateEnum
CREATE TYPE "ShipmentStatus" AS ENUM ('PENDING', 'CONFIRMED', 'CANCELLED');

-- CreateTable
CREATE TABLE "service_areas" (
    "country" TEXT NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "service_areas_pkey" PRIMARY KEY ("country")
);

-- CreateTable
CREATE TABLE "shipments" (
    "order_id" TEXT NOT NULL,
    "recipient" TEXT,
    "line1" TEXT,
    "city" TEXT,
    "postal_code" TEXT,
    "country" TEXT,
    "status" "ShipmentStatus" NOT NULL,
    "tracking_number" TEXT,
    "reason" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "confirmed_at" TIMESTAMP(3),
    "cancelled_at" TIMESTAMP(3),

    CONSTRAINT "shipments_pkey" PRIMARY KEY ("order_id")
);

-- CreateTable
CREATE TABLE "idempotency_records" (
    "key" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "status_code" INTEGER NOT NULL,
    "response_body" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotency_records_pkey" PRIMARY KEY ("key")
);
