-- CreateTable
CREATE TABLE "AcceptanceCase" (
    "node" TEXT NOT NULL PRIMARY KEY,
    "status" TEXT NOT NULL,
    "document" TEXT NOT NULL,
    "updatedAt" TEXT NOT NULL
);
