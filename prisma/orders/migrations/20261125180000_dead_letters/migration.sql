-- CreateEnum
CREATE TYPE "DeadLetterStatus" AS ENUM ('OPEN', 'RETRIED', 'RESOLVED');

-- CreateTable
CREATE TABLE "dead_letters" (
    "id" SERIAL NOT NULL,
    "saga_id" TEXT NOT NULL,
    "step" TEXT NOT NULL,
    "for_step" TEXT NOT NULL,
    "round" INTEGER NOT NULL,
    "error_type" TEXT NOT NULL,
    "last_error" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "status" "DeadLetterStatus" NOT NULL DEFAULT 'OPEN',
    "resolution" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closed_at" TIMESTAMP(3),

    CONSTRAINT "dead_letters_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "dead_letters_saga_id_step_round_key" ON "dead_letters"("saga_id", "step", "round");

-- CreateIndex
CREATE INDEX "dead_letters_status_idx" ON "dead_letters"("status");
