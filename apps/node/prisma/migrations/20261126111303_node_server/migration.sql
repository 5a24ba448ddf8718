-- CreateTable
CREATE TABLE "NodeSetting" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "Peer" (
    "prefix" TEXT NOT NULL PRIMARY KEY,
    "relation" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "publicKey" TEXT NOT NULL,
    "certificate" TEXT NOT NULL DEFAULT '',
    "lifecycle" TEXT NOT NULL,
    "health" TEXT NOT NULL DEFAULT 'healthy',
    "ndRecord" TEXT,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Application" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "applicant" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "industry" TEXT,
    "body" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "routedTo" TEXT NOT NULL,
    "forwardedBy" TEXT,
    "originId" TEXT,
    "reasons" TEXT NOT NULL DEFAULT '[]',
    "reviews" TEXT NOT NULL DEFAULT '[]',
    "grant" TEXT,
    "submittedAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Account" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "passwordHash" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "AuditRecord" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "entry" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "EventRecord" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "at" TEXT NOT NULL,
    "subject" TEXT,
    "severity" TEXT NOT NULL,
    "data" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "Outbox" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "kind" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "JointDebugRun" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "target" TEXT NOT NULL,
    "by" TEXT NOT NULL,
    "listVersion" TEXT NOT NULL,
    "passed" BOOLEAN NOT NULL,
    "result" TEXT NOT NULL,
    "at" TEXT NOT NULL
);

-- CreateIndex
CREATE INDEX "Application_applicant_idx" ON "Application"("applicant");

-- CreateIndex
CREATE UNIQUE INDEX "EventRecord_id_key" ON "EventRecord"("id");

-- CreateIndex
CREATE INDEX "EventRecord_type_idx" ON "EventRecord"("type");

-- CreateIndex
CREATE INDEX "EventRecord_at_idx" ON "EventRecord"("at");

-- CreateIndex
CREATE INDEX "Outbox_nextAt_idx" ON "Outbox"("nextAt");
