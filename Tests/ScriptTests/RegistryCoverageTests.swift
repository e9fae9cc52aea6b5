import XCTest
@testable import Script

/// The registry knows exactly the names the reference documents, and its rows are consistent.
final class RegistryCoverageTests: XCTestCase {
    let registry = ArgumentRegistry.shared

    func testEveryDocumentedNameResolves() throws {
        let names = try RegistryFixture.documentedNames()
        XCTAssertEqual(names.count, 430, "fixture size changed; regenerate and review")
        let missing = names.filter { registry.spec($0) == nil }
        XCTAssertEqual(missing, [], "documented names missing from the registry")
    }

    func testRegistryInventsNoNames() throws {
        let names = Set(try RegistryFixture.documentedNames())
        let extra = registry.all.map(\.name).filter { !names.contains($0) }
        XCTAssertEqual(Set(extra), ArgumentRegistry.extensions, "registry rows that the reference does not document")
        for name in ArgumentRegistry.extensions { XCTAssertTrue(registry.spec(name)!.help.hasPrefix("tune's addition"), name) }
    }

    func testNamesAndAliasesAreUnique() {
        var seen: [String: String] = [:]
        for spec in registry.all {
            for name in [spec.name] + spec.aliases {
                XCTAssertNil(seen[name], "\(name) is used by both \(seen[name] ?? "") and \(spec.name)")
                seen[name] = spec.name
            }
        }
        XCTAssertEqual(registry.all.filter { $0.kind == .argument }.count, 390 + ArgumentRegistry.extensions.count)
        XCTAssertEqual(registry.environmentVariables.count, 40)
    }

    /// Every documented default is a value of the argument's own type: parsing its words
    /// gives it back (this catches a 5 written where the type is a float, a default outside
    /// the choices, a default outside the range).
    func testDefaultsParseBackToThemselves() throws {
        for spec in registry.all {
            var values = spec.commandDefaults.map { ($0.key as Command?, $0.value) }
            if let d = spec.defaultValue { values.append((nil, d)) }
            for (command, value) in values {
                let parsed = try registry.parse(value.words, for: spec, command: command, checkSupport: false)
                XCTAssertEqual(parsed, value, "default of \(spec.name) for \(command?.rawValue ?? "all")")
            }
        }
    }

    /// The documented default of every argument is accepted by this engine (only changing it is an error).
    func testDefaultsPassEngineSupport() throws {
        for spec in registry.all {
            guard let value = spec.defaultValue else { continue }
            XCTAssertNoThrow(try registry.parse(value.words, for: spec), "default of \(spec.name)")
        }
    }

    func testHelpTextsAreShortSentences() {
        for spec in registry.all {
            XCTAssertFalse(spec.help.isEmpty, spec.name)
            XCTAssertLessThan(spec.help.count, 200, "help of \(spec.name) is more than a sentence or two")
            XCTAssertTrue(spec.help.hasSuffix(".") || spec.help.hasSuffix(")"), "help of \(spec.name) ends mid-sentence")
        }
    }

    func testCommandsFollowTheReferenceInheritance() throws {
        func commands(_ name: String) -> Set<Command> { registry.spec(name)?.commands ?? [] }
        // Base arguments: every command.
        XCTAssertEqual(commands("seed"), Set(Command.allCases))
        // Model/data/template/generation arguments: every command built on BaseArguments.
        XCTAssertEqual(commands("model"), Set(Command.allCases).subtracting([.webUI]))
        XCTAssertTrue(commands("max_new_tokens").isSuperset(of: [.infer, .sft, .export, .sample]))
        // Training arguments: pt, sft, rlhf.
        XCTAssertEqual(commands("lora_rank"), [.pt, .sft, .rlhf])
        XCTAssertEqual(commands("num_train_epochs"), [.pt, .sft, .rlhf])
        // Inference arguments go to infer and what inherits it (deploy -> rollout, app, eval).
        XCTAssertEqual(commands("infer_backend"), [.infer, .deploy, .rollout, .app, .eval])
        XCTAssertEqual(commands("port"), [.deploy, .rollout, .app, .eval])
        // Merge arguments: inference and export.
        XCTAssertTrue(commands("merge_lora").isSuperset(of: [.infer, .export, .mergeLora]))
        XCTAssertFalse(commands("merge_lora").contains(.sft))
        // App inherits deployment and web-ui arguments.
        XCTAssertEqual(commands("server_port"), [.webUI, .app])
        XCTAssertEqual(commands("studio_title"), [.app])
        // RLHF-only.
        XCTAssertEqual(commands("rlhf_type"), [.rlhf])
        XCTAssertEqual(commands("num_generations"), [.rlhf])
        // Export-only and sample-only.
        XCTAssertEqual(commands("to_ollama"), [.export, .mergeLora])
        XCTAssertEqual(commands("num_return_sequences"), [.sample])
        XCTAssertEqual(commands("eval_backend"), [.eval])
        XCTAssertTrue(commands("output_dir").isSuperset(of: [.sft, .export, .sample]))
        XCTAssertTrue(commands("push_to_hub").isSuperset(of: [.sft, .export]))

        XCTAssertTrue(registry.specs(for: .infer).contains { $0.name == "infer_backend" })
        XCTAssertFalse(registry.specs(for: .infer).contains { $0.name == "lora_rank" })
        XCTAssertFalse(registry.specs(for: .sft).contains { $0.kind == .environment })
        XCTAssertThrowsError(try registry.lookup("lora_rank", for: .infer)) { error in
            XCTAssertEqual("\(error)", "lora_rank is not an argument of 'infer' (taken by: pt, sft, rlhf)")
        }
    }
}
