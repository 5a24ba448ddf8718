-- CreateTable
CREATE TABLE "IdentifierRecord" (
    "id" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "ownerNode" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "status" TEXT NOT NULL DEFAULT 'active',
    "values" TEXT NOT NULL DEFAULT '[]',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "IdentifierRecord_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AllocatedSerial" (
    "prefix" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "allocatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AllocatedSerial_pkey" PRIMARY KEY ("prefix","serial")
);

-- CreateTable
CREATE TABLE "SeenNonce" (
    "keyid" TEXT NOT NULL,
    "nonce" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SeenNonce_pkey" PRIMARY KEY ("keyid","nonce")
);

-- CreateTable
CREATE TABLE "IdempotencyKey" (
    "key" TEXT NOT NULL,
    "response" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IdempotencyKey_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "NodeSetting" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "NodeSetting_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "Peer" (
    "prefix" TEXT NOT NULL,
    "relation" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "publicKey" TEXT NOT NULL,
    "certificate" TEXT NOT NULL DEFAULT '',
    "lifecycle" TEXT NOT NULL,
    "health" TEXT NOT NULL DEFAULT 'healthy',
    "ndRecord" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Peer_pkey" PRIMARY KEY ("prefix")
);

-- CreateTable
CREATE TABLE "Application" (
    "id" TEXT NOT NULL,
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
    "submittedAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Application_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Account" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "passwordHash" TEXT NOT NULL,
    "agency" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Dossier" (
    "applicationId" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Dossier_pkey" PRIMARY KEY ("applicationId")
);

-- CreateTable
CREATE TABLE "Attachment" (
    "applicationId" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "file" TEXT NOT NULL,
    "mediaType" TEXT NOT NULL,
    "bytes" INTEGER NOT NULL,
    "content" BYTEA NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Attachment_pkey" PRIMARY KEY ("applicationId","sha256")
);

-- CreateTable
CREATE TABLE "ChainStep" (
    "applicationId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "by" TEXT NOT NULL,
    "role" TEXT,
    "agency" TEXT,
    "at" TIMESTAMP(3) NOT NULL,
    "step" TEXT NOT NULL,
    "signature" TEXT NOT NULL,

    CONSTRAINT "ChainStep_pkey" PRIMARY KEY ("applicationId","seq")
);

-- CreateTable
CREATE TABLE "Disqualified" (
    "creditCode" TEXT NOT NULL,
    "applicationId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Disqualified_pkey" PRIMARY KEY ("creditCode")
);

-- CreateTable
CREATE TABLE "AuditRecord" (
    "seq" SERIAL NOT NULL,
    "entry" TEXT NOT NULL,

    CONSTRAINT "AuditRecord_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "EventRecord" (
    "seq" SERIAL NOT NULL,
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "at" TEXT NOT NULL,
    "subject" TEXT,
    "severity" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "node" TEXT,

    CONSTRAINT "EventRecord_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "Outbox" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OutboxDeadLetter" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "answer" TEXT NOT NULL,
    "failedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OutboxDeadLetter_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "JointDebugRun" (
    "id" SERIAL NOT NULL,
    "target" TEXT NOT NULL,
    "by" TEXT NOT NULL,
    "listVersion" TEXT NOT NULL,
    "passed" BOOLEAN NOT NULL,
    "result" TEXT NOT NULL,
    "at" TEXT NOT NULL,

    CONSTRAINT "JointDebugRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AcceptanceCase" (
    "node" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "document" TEXT NOT NULL,
    "updatedAt" TEXT NOT NULL,

    CONSTRAINT "AcceptanceCase_pkey" PRIMARY KEY ("node")
);

-- CreateTable
CREATE TABLE "Provider" (
    "id" TEXT NOT NULL,
    "creditCode" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "province" TEXT NOT NULL,
    "city" TEXT NOT NULL,
    "publicKey" TEXT NOT NULL,
    "lifecycle" TEXT NOT NULL DEFAULT 'active',
    "registeredAt" TEXT NOT NULL,
    "lastReportSeq" INTEGER NOT NULL DEFAULT -1,

    CONSTRAINT "Provider_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Cluster" (
    "id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "spec" TEXT NOT NULL,
    "lifecycle" TEXT NOT NULL DEFAULT 'registered',
    "registeredAt" TEXT NOT NULL,

    CONSTRAINT "Cluster_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ClusterLive" (
    "cluster" TEXT NOT NULL,
    "report" TEXT NOT NULL,
    "lastReportAt" DOUBLE PRECISION NOT NULL,
    "health" TEXT NOT NULL,
    "reports" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "ClusterLive_pkey" PRIMARY KEY ("cluster")
);

-- CreateTable
CREATE TABLE "ChildSummary" (
    "node" TEXT NOT NULL,
    "at" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "receivedAt" TEXT NOT NULL,

    CONSTRAINT "ChildSummary_pkey" PRIMARY KEY ("node")
);

-- CreateTable
CREATE TABLE "Job" (
    "id" TEXT NOT NULL,
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
    "submittedAt" DOUBLE PRECISION NOT NULL,
    "finishedAt" DOUBLE PRECISION,
    "dispatchedAt" DOUBLE PRECISION,
    "costYuan" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "final" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "Job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "JobHistory" (
    "id" SERIAL NOT NULL,
    "job" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "entry" TEXT NOT NULL,

    CONSTRAINT "JobHistory_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MeteringRecord" (
    "id" SERIAL NOT NULL,
    "job" TEXT NOT NULL,
    "tenant" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "cluster" TEXT NOT NULL,
    "coreHours" DOUBLE PRECISION NOT NULL,
    "cardHours" DOUBLE PRECISION NOT NULL,
    "amountYuan" DOUBLE PRECISION NOT NULL,
    "from" TEXT NOT NULL,
    "to" TEXT NOT NULL,

    CONSTRAINT "MeteringRecord_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ChildMetering" (
    "node" TEXT NOT NULL,
    "at" TEXT NOT NULL,
    "summary" TEXT NOT NULL,

    CONSTRAINT "ChildMetering_pkey" PRIMARY KEY ("node")
);

-- CreateIndex
CREATE INDEX "IdentifierRecord_prefix_idx" ON "IdentifierRecord"("prefix");

-- CreateIndex
CREATE INDEX "IdentifierRecord_ownerNode_idx" ON "IdentifierRecord"("ownerNode");

-- CreateIndex
CREATE INDEX "SeenNonce_expiresAt_idx" ON "SeenNonce"("expiresAt");

-- CreateIndex
CREATE INDEX "IdempotencyKey_createdAt_idx" ON "IdempotencyKey"("createdAt");

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

-- CreateIndex
CREATE INDEX "OutboxDeadLetter_failedAt_idx" ON "OutboxDeadLetter"("failedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Provider_creditCode_key" ON "Provider"("creditCode");

-- CreateIndex
CREATE INDEX "Cluster_provider_idx" ON "Cluster"("provider");

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


