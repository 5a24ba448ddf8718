-- CreateTable
CREATE TABLE "IdentifierRecord" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "prefix" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "ownerNode" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "status" TEXT NOT NULL DEFAULT 'active',
    "values" TEXT NOT NULL DEFAULT '[]',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "AllocatedSerial" (
    "prefix" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "allocatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("prefix", "serial")
);

-- CreateTable
CREATE TABLE "SeenNonce" (
    "keyid" TEXT NOT NULL,
    "nonce" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,

    PRIMARY KEY ("keyid", "nonce")
);

-- CreateTable
CREATE TABLE "IdempotencyKey" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "response" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE INDEX "IdentifierRecord_prefix_idx" ON "IdentifierRecord"("prefix");

-- CreateIndex
CREATE INDEX "IdentifierRecord_ownerNode_idx" ON "IdentifierRecord"("ownerNode");

-- CreateIndex
CREATE INDEX "SeenNonce_expiresAt_idx" ON "SeenNonce"("expiresAt");

-- CreateIndex
CREATE INDEX "IdempotencyKey_createdAt_idx" ON "IdempotencyKey"("createdAt");
