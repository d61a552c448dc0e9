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
            #expect((environment["DATABASE_URL"] as? String)?.contains("@postgres:5432/") == true)
            let dependsOn = try #require(service["depends_on"] as? [String: Any])
            #expect((dependsOn["migrate"] as? [String: Any])?["condition"] as? String == "service_completed_successfully")
        }
        let dockerfile = try String(contentsOf: root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        for name in ["timebank", "enrollment-worker", "order-worker", "settlement-worker", "notification-worker", "insurance-claim-worker"] {
            #expect(dockerfile.contains("--product \(name)"), "the image must contain \(name)")
        }
    }
}
