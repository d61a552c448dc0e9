# The time bank's image: the operators' CLI and the worker executables.
# Built by docker-compose.yml (`docker compose build`); one image, one
# process per container, chosen by the container's command.
FROM swift:6.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources Sources
COPY Tests Tests
RUN swift build -c release --static-swift-stdlib \
      --product timebank --product enrollment-worker --product order-worker --product settlement-worker \
      --product insurance-claim-worker \
 && mkdir /out \
 && cp .build/release/timebank .build/release/enrollment-worker .build/release/order-worker .build/release/settlement-worker \
    .build/release/insurance-claim-worker /out/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates tzdata && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
COPY sql /usr/share/timebank/sql
ENV TIMEBANK_SQL_DIR=/usr/share/timebank/sql
RUN useradd --system --no-create-home timebank
USER timebank
CMD ["timebank", "--help"]
