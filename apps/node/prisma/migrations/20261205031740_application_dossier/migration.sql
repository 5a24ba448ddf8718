-- AlterTable
ALTER TABLE "Account" ADD COLUMN "agency" TEXT;

-- CreateTable
CREATE TABLE "Dossier" (
    "applicationId" TEXT NOT NULL PRIMARY KEY,
    "body" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Attachment" (
    "applicationId" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "file" TEXT NOT NULL,
    "mediaType" TEXT NOT NULL,
    "bytes" INTEGER NOT NULL,
    "content" BLOB NOT NULL,
    "at" DATETIME NOT NULL,

    PRIMARY KEY ("applicationId", "sha256")
);

-- CreateTable
CREATE TABLE "ChainStep" (
    "applicationId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "by" TEXT NOT NULL,
    "role" TEXT,
    "agency" TEXT,
    "at" DATETIME NOT NULL,
    "step" TEXT NOT NULL,
    "signature" TEXT NOT NULL,

    PRIMARY KEY ("applicationId", "seq")
);

-- CreateTable
CREATE TABLE "Disqualified" (
    "creditCode" TEXT NOT NULL PRIMARY KEY,
    "applicationId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "at" DATETIME NOT NULL
);
