-- Run once by the postgres image, when its data volume is new (docker-compose.yml mounts this file into
-- /docker-entrypoint-initdb.d/): one database per service, as the saga's services share no tables. Each service
-- creates its own tables at start-up (its Prisma migrations under prisma/<service>/migrations).
CREATE DATABASE orders;
CREATE DATABASE inventory;
CREATE DATABASE payments;
CREATE DATABASE shipping;
