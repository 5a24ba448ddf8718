-- CreateTable
CREATE TABLE "Job" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "tenant" TEXT NOT NULL,
    "origin" TEXT NOT NULL,
    "template" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "stateAttempt" INTEGER NOT NULL DEFAULT 1,
    "upstream" TEXT,
    "downstream" TEXT,
    "owner" TEXT,
    "cluster" TEXT,
    "preferredCluster" TEXT,
    "submittedAt" REAL NOT NULL,
    "finishedAt" REAL,
    "dispatchedAt" REAL,
    "costYuan" REAL NOT NULL DEFAULT 0,
    "final" BOOLEAN NOT NULL DEFAULT false
);

-- CreateTable
CREATE TABLE "JobHistory" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "job" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "entry" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "MeteringRecord" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "job" TEXT NOT NULL,
    "tenant" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "cluster" TEXT NOT NULL,
    "coreHours" REAL NOT NULL,
    "cardHours" REAL NOT NULL,
    "amountYuan" REAL NOT NULL,
    "from" TEXT NOT NULL,
    "to" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "ChildMetering" (
    "node" TEXT NOT NULL PRIMARY KEY,
    "at" TEXT NOT NULL,
    "summary" TEXT NOT NULL
);

-- CreateIndex
CREATE INDEX "Job_tenant_idx" ON "Job"("tenant");

-- CreateIndex
CREATE INDEX "Job_final_idx" ON "Job"("final");

-- CreateIndex
CREATE UNIQUE INDEX "JobHistory_job_seq_key" ON "JobHistory"("job", "seq");

-- CreateIndex
CREATE INDEX "MeteringRecord_tenant_idx" ON "MeteringRecord"("tenant");

-- CreateIndex
CREATE INDEX "MeteringRecord_provider_idx" ON "MeteringRecord"("provider");

-- CreateIndex
CREATE UNIQUE INDEX "MeteringRecord_job_cluster_from_key" ON "MeteringRecord"("job", "cluster", "from");
