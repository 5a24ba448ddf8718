-- AlterTable
ALTER TABLE "EventRecord" ADD COLUMN "node" TEXT;

-- CreateTable
CREATE TABLE "Provider" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "creditCode" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "province" TEXT NOT NULL,
    "city" TEXT NOT NULL,
    "publicKey" TEXT NOT NULL,
    "lifecycle" TEXT NOT NULL DEFAULT 'active',
    "registeredAt" TEXT NOT NULL,
    "lastReportSeq" INTEGER NOT NULL DEFAULT -1
);

-- CreateTable
CREATE TABLE "Cluster" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "provider" TEXT NOT NULL,
    "spec" TEXT NOT NULL,
    "lifecycle" TEXT NOT NULL DEFAULT 'registered',
    "registeredAt" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "ClusterLive" (
    "cluster" TEXT NOT NULL PRIMARY KEY,
    "report" TEXT NOT NULL,
    "lastReportAt" REAL NOT NULL,
    "health" TEXT NOT NULL,
    "reports" INTEGER NOT NULL DEFAULT 0
);

-- CreateTable
CREATE TABLE "ChildSummary" (
    "node" TEXT NOT NULL PRIMARY KEY,
    "at" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "receivedAt" TEXT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "Provider_creditCode_key" ON "Provider"("creditCode");

-- CreateIndex
CREATE INDEX "Cluster_provider_idx" ON "Cluster"("provider");
