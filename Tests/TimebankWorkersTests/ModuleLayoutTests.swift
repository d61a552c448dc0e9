import Foundation
import Testing
import TimebankWorkers

/// What `Package.swift` promises (README "Code map"): no production
/// worker links the development cluster or the operators' code, however
/// its dependencies change.
@Suite struct ModuleLayoutTests {
    /// Each target's direct dependencies among the package's own targets, read from Package.swift.
    static func targetDependencies() throws -> [String: Set<String>] {
        let manifest = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Package.swift")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        let quoted = try Regex(#""([A-Za-z-]+)"(?!, package:)"#)
        func names(_ list: Substring) -> Set<String> { Set(list.matches(of: quoted).map { String($0.output[1].substring!) }) }
        // productionWorker("x") has the helper's own dependencies.
        let helper = try #require(text.firstMatch(of: try Regex(#"func productionWorker[^\n]*\n[^\n]*dependencies: (\[[^\]]*\])"#)))
        let workerDependencies = names(helper.output[1].substring!)
        var dependencies: [String: Set<String>] = [:]
        for match in text.matches(of: try Regex(#"productionWorker\("([a-z-]+)"\)"#)) {
            dependencies[String(match.output[1].substring!)] = workerDependencies
        }
        for match in text.matches(of: try Regex(#"name: "([A-Za-z-]+)",\s*dependencies: (\[(?:[^\[\]]|\[[^\]]*\])*\])"#)) {
            dependencies[String(match.output[1].substring!)] = names(match.output[2].substring!)
        }
        return dependencies
    }

    @Test func noProductionWorkerLinksTheDevelopmentClusterOrTheOperatorsCode() throws {
        let dependencies = try Self.targetDependencies()
        #expect(dependencies["Console"] != nil, "the console's target was not read")
        #expect(dependencies["timebank"]?.contains("DevCluster") == true, "the manifest was not read")
        for worker in WorkerKind.allCases.map(\.executable) + ["test-worker"] {
            #expect(dependencies[worker] != nil, "\(worker) not found in Package.swift")
            var closure = Set<String>(), next = dependencies[worker] ?? []
            while let target = next.popFirst() {
                if closure.insert(target).inserted { next.formUnion(dependencies[target] ?? []) }
            }
            #expect(closure.contains("WorkerHost"), "\(worker)")
            #expect(!closure.contains("DevCluster"), "\(worker) links DevCluster: \(closure.sorted())")
            #expect(!closure.contains("TimebankOperations"), "\(worker) links TimebankOperations: \(closure.sorted())")
            #expect(!closure.contains("Console"), "\(worker) links the web console: \(closure.sorted())")
        }
        // The host is the domain's, not the other way round: test-worker links no domain code.
        #expect(dependencies["WorkerHost"]?.contains("TimebankWorkers") == false)
        #expect(dependencies["test-worker"].map { !$0.contains("TimebankWorkers") } == true)
    }
}
