# The time bank's image: the operators' CLI and the worker executables.
# Built by docker-compose.yml (`docker compose build`); one image, one
# process per container, chosen by the container's command.
FROM swift:6.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config libcurl4-openssl-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources Sources
COPY Tests Tests
RUN swift build -c release --static-swift-stdlib \
      --product timebank --product enrollment-worker --product order-worker --product settlement-worker \
      --product notification-worker --product insurance-claim-worker \
 && mkdir /out \
 && cp .build/release/timebank .build/release/enrollment-worker .build/release/order-worker .build/release/settlement-worker \
    .build/release/notification-worker .build/release/insurance-claim-worker /out/ \
 && cp -R .build/release/timebank_TimebankWorkers.resources /out/

FROM debian:bookworm-slim
# libcurl: URLSession's transport (the notification and insurance-claim workers' HTTP).
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 libcurl4 ca-certificates tzdata && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
COPY sql /usr/share/timebank/sql
ENV TIMEBANK_SQL_DIR=/usr/share/timebank/sql
RUN useradd --system --no-create-home timebank
USER timebank
CMD ["timebank", "--help"]
