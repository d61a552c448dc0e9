import Foundation
import Testing
import TimebankDatabase
import Yams

/// No Docker engine runs here, so the compose file is checked by reading it.
@Suite struct DockerComposeTests {
    @Test func postgresServiceIsComplete() throws {
        let root = try Migration.defaultDirectory().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        let compose = try #require(try Yams.load(yaml: text) as? [String: Any])
        let services = try #require(compose["services"] as? [String: Any])
        let postgres = try #require(services["postgres"] as? [String: Any])

        // The official image, PostgreSQL 15 or newer (DESIGN.md), tag pinned to a major.
        let image = try #require(postgres["image"] as? String)
        let parts = image.split(separator: ":")
        #expect(parts.first == "postgres")
        let major = parts.count == 2 ? Int(parts[1].prefix { $0.isNumber }) : nil
        #expect((major ?? 0) >= 15, "image \(image) must name PostgreSQL 15 or newer")

        // A named volume (declared at top level) holds the data.
        let volumes = try #require(postgres["volumes"] as? [String])
        let named = try #require(volumes.first { $0.hasSuffix(":/var/lib/postgresql/data") }?.split(separator: ":").first)
        let declared = try #require(compose["volumes"] as? [String: Any?])
        #expect(declared.keys.contains(String(named)))

        // A healthcheck that asks the server itself.
        let health = try #require(postgres["healthcheck"] as? [String: Any])
        let test = try #require(health["test"] as? [String])
        #expect(test.joined(separator: " ").contains("pg_isready"))

        // Every service names an image with an explicit tag.
        for (name, service) in services {
            let image = (service as? [String: Any])?["image"] as? String
            #expect(image?.contains(":") == true, "service \(name) must pin an image tag")
        }
    }

    /// The five workers, each scalable with `--scale` (no
    /// container name, no host port), after the migration, pointed at the database.
    @Test func workersAreScalableServicesAfterTheMigration() throws {
        let root = try Migration.defaultDirectory().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        let compose = try #require(try Yams.load(yaml: text) as? [String: Any])
        let services = try #require(compose["services"] as? [String: Any])
        for name in ["enrollment-worker", "order-worker", "settlement-worker", "notification-worker", "insurance-claim-worker"] {
            let service = try #require(services[name] as? [String: Any], "no \(name) service")
            #expect(service["container_name"] == nil, "\(name) must not have a container name (--scale)")
            #expect(service["ports"] == nil, "\(name) must not bind a host port (--scale)")
            #expect((service["command"] as? [String])?.first == name)
            let environment = try #require(service["environment"] as? [String: Any])
            // Every host of the profile's database; the writable one chosen by libpq (issue 16).
            #expect((environment["DATABASE_URL"] as? String)?.hasSuffix("@${TIMEBANK_DATABASE_HOSTS:-postgres:5432}/timebank?target_session_attrs=read-write") == true)
            let dependsOn = try #require(service["depends_on"] as? [String: Any])
            #expect((dependsOn["migrate"] as? [String: Any])?["condition"] as? String == "service_completed_successfully")
        }
        let dockerfile = try String(contentsOf: root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        for name in ["timebank", "enrollment-worker", "order-worker", "settlement-worker", "notification-worker", "insurance-claim-worker"] {
            #expect(dockerfile.contains("--product \(name)"), "the image must contain \(name)")
        }
    }

    /// Issue 16: `docker compose --env-file ops/patroni/ha.env up -d` runs
    /// etcd and three Patroni nodes in place of the single PostgreSQL, each
    /// node with the cluster's one configuration (ops/patroni/cluster.yml,
    /// the file `timebank db start --ha` and the failover tests run on), and
    /// points every worker and the migration at all three.
    @Test func theHAProfileRunsThreePatroniNodesOnTheSharedConfigurationAndTheWorkersFollowThem() throws {
        let root = try Migration.defaultDirectory().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        let services = try #require((try Yams.load(yaml: text) as? [String: Any])?["services"] as? [String: Any])
        #expect((services["postgres"] as? [String: Any])?["profiles"] as? [String] == ["single"])
        #expect((services["etcd"] as? [String: Any])?["profiles"] as? [String] == ["ha"])

        func variables(_ file: String) throws -> [String: String] {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            return Dictionary(uniqueKeysWithValues: text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("=") }.map {
                let parts = $0.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), String(parts[1]))
            })
        }
        #expect(try variables(".env") == ["COMPOSE_PROFILES": "single", "TIMEBANK_DATABASE_HOSTS": "postgres:5432"])
        let ha = try variables("ops/patroni/ha.env")
        #expect(ha["COMPOSE_PROFILES"] == "ha")

        let names = (1...3).map { "patroni-\($0)" }
        #expect(ha["TIMEBANK_DATABASE_HOSTS"] == names.map { "\($0):5432" }.joined(separator: ","))
        for name in names {
            let node = try #require(services[name] as? [String: Any], "no \(name)")
            #expect(node["profiles"] as? [String] == ["ha"])
            #expect(node["build"] as? String == "ops/patroni")
            let environment = try #require(node["environment"] as? [String: Any])
            #expect(environment["PATRONI_NAME"] as? String == name)
            #expect(environment["PATRONI_POSTGRESQL_CONNECT_ADDRESS"] as? String == "\(name):5432")
            #expect(environment["PATRONI_ETCD3_HOSTS"] as? String == "etcd:2379")
            let health = try #require((node["healthcheck"] as? [String: Any])?["test"] as? [String])
            #expect(health.joined(separator: " ").contains("/health"))
            // The migration waits for every node of whichever profile runs.
            let migrate = try #require((services["migrate"] as? [String: Any])?["depends_on"] as? [String: Any])
            #expect((migrate[name] as? [String: Any])?["required"] as? Bool == false)
        }

        // The image's configuration directory: the shared file first, then the node's.
        let dockerfile = try String(contentsOf: root.appendingPathComponent("ops/patroni/Dockerfile"), encoding: .utf8)
        #expect(dockerfile.contains("COPY cluster.yml /etc/patroni/10-cluster.yml"))
        #expect(dockerfile.contains("COPY docker-node.yml /etc/patroni/20-node.yml"))
        #expect(dockerfile.contains(#"CMD ["patroni", "/etc/patroni"]"#))
        // Synchronous replication is the cluster's, not a node's: no acknowledged commit is lost.
        let cluster = try #require(try Yams.load(yaml: String(contentsOf: root.appendingPathComponent("ops/patroni/cluster.yml"), encoding: .utf8)) as? [String: Any])
        let dcs = try #require((cluster["bootstrap"] as? [String: Any])?["dcs"] as? [String: Any])
        #expect(dcs["synchronous_mode"] as? Bool == true)
        let node = try #require(try Yams.load(yaml: String(contentsOf: root.appendingPathComponent("ops/patroni/docker-node.yml"), encoding: .utf8)) as? [String: Any])
        let hba = try #require((node["postgresql"] as? [String: Any])?["pg_hba"] as? [String])
        #expect(!hba.contains { $0.hasPrefix("host") && $0.hasSuffix("trust") }, "no trust over the compose network")
    }
}
