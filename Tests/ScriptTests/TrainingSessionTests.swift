import Engine
import Foundation
import XCTest
@testable import Script

/// `sft` in a session over the real engine and the default model: a short LoRA run on the
/// built-in self-cognition data leaves the adapter live and its checkpoint on disk as ms-swift
/// lays it out (PEFT files, trainer state, logs, TensorBoard events, curves, args.json);
/// `load adapter` reads the checkpoint back and answers exactly as the live adapter; `use base`
/// answers as before; a stopped run resumes from `last` to the planned step count.
final class TrainingSessionTests: XCTestCase {
    func testSFTLeavesALiveAdapterAndAnMsSwiftRunDirectory() throws {
        let model = try AdapterSessionTests.defaultModel()
        let out = NSTemporaryDirectory() + "tune-sft-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let backend = EngineSessionBackend()
        let output = RecordingOutput()
        let interpreter = Interpreter(backend: backend, output: output, interactive: false)
        func run(_ text: String) {
            XCTAssertEqual(interpreter.runScript(text, file: "sft.tune"), 0, output.errors.description)
        }
        func answer() -> String {
            output.streamed = ""
            run("ask --temperature 0 --max_new_tokens 16 'Who are you?'")
            return output.streamed
        }
        run("load model \(model)")
        let base = answer()
        run("""
            sft --dataset swift/self-cognition#16 --model_name Tuney --model_author Lead --max_steps 2 \
                --per_device_train_batch_size 4 --gradient_accumulation_steps 2 --learning_rate 1e-3 \
                --logging_steps 1 --output_dir \(out)
            """)
        XCTAssertNotNil(interpreter.session.adapter, "the trained adapter is live")
        let trained = answer()
        XCTAssertNotEqual(trained, base, "two steps at lr 1e-3 change the greedy answer")

        let runs = try FileManager.default.contentsOfDirectory(atPath: out)
        XCTAssertEqual(runs.count, 1)
        XCTAssertTrue(runs[0].hasPrefix("v0-"), runs[0])
        let run0 = out + "/" + runs[0], checkpoint = run0 + "/checkpoint-2"
        for file in ["args.json", "logging.jsonl", "images/train_loss.png",
                     "checkpoint-2/adapter_config.json", "checkpoint-2/adapter_model.safetensors",
                     "checkpoint-2/trainer_state.json", "checkpoint-2/optimizer.safetensors", "checkpoint-2/args.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run0 + "/" + file), file)
        }
        let events = try FileManager.default.contentsOfDirectory(atPath: run0 + "/runs")
        XCTAssertEqual(events.filter { $0.hasPrefix("events.out.tfevents.") }.count, 1)
        let lines = try String(contentsOfFile: run0 + "/logging.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(lines[0].contains("\"global_step/max_steps\": \"1/2\""), String(lines[0]))
        let scalars = try TensorBoardEventReader.scalars(path: run0 + "/runs/" + events[0])
        XCTAssertEqual(scalars.first { $0.tag == "train/loss" }?.points.map(\.step), [1, 2])

        // The checkpoint read back answers as the adapter that wrote it; use base restores.
        run("load adapter \(checkpoint) as again")
        XCTAssertEqual(answer(), trained)
        run("use base")
        XCTAssertEqual(answer(), base)

        // A stopped run (raised flag: what Ctrl-C does) ends with a checkpoint; resuming from
        // `last` goes on to the planned steps.
        let flag = interpreter.cancel
        let watcher = Thread {
            // Raise the flag once the second run has logged its first step.
            for _ in 0..<6000 {
                let dirs = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
                if let v1 = dirs.first(where: { $0.hasPrefix("v1-") }),
                   let text = try? String(contentsOfFile: out + "/" + v1 + "/logging.jsonl", encoding: .utf8), !text.isEmpty {
                    flag.raise()
                    return
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        watcher.start()
        run("sft --dataset swift/self-cognition#16 --max_steps 3 --per_device_train_batch_size 4 --gradient_accumulation_steps 1 --output_dir \(out)")
        XCTAssertTrue(output.lines.contains { $0.hasPrefix("stopped ") && $0.contains("/3 steps") && !$0.contains("3/3") }, output.lines.suffix(8).description)
        run("sft --dataset swift/self-cognition#16 --max_steps 3 --per_device_train_batch_size 4 --gradient_accumulation_steps 1 --output_dir \(out) --resume_from_checkpoint last")
        XCTAssertTrue(output.lines.contains { $0.contains("trained 3/3 steps") }, output.lines.suffix(8).description)
    }

    /// Ctrl-C (the raised flag) then `continue`: the run goes on from its checkpoint to the
    /// planned steps with the same arguments; then there is nothing left to continue. Rows
    /// `strict false` drops (an empty conversation, a row longer than max_length) are counted in the
    /// report and in logging.jsonl's summary line as `dropped_rows`.
    func testContinueFinishesAStoppedRunAndDroppedRowsAreLogged() throws {
        let model = try AdapterSessionTests.defaultModel()
        let out = NSTemporaryDirectory() + "tune-continue-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let data = out + "/data.jsonl"
        var rows = (1...5).map { #"{"messages": [{"role": "user", "content": "Question \#($0)?"}, {"role": "assistant", "content": "Answer \#($0)."}]}"# }
        rows.insert(#"{"messages": []}"#, at: 2)
        rows.insert(#"{"messages": [{"role": "user", "content": "Tell a long story."}, {"role": "assistant", "content": "\#(String(repeating: "once upon a time ", count: 40))"}]}"#, at: 4)
        try (rows.joined(separator: "\n") + "\n").write(toFile: data, atomically: true, encoding: .utf8)

        let output = RecordingOutput()
        let interpreter = Interpreter(backend: EngineSessionBackend(), output: output, interactive: false)
        func run(_ text: String) -> Int { interpreter.runScript(text, file: "c.tune") }
        XCTAssertEqual(run("load model \(model)"), 0)
        XCTAssertEqual(run("continue"), 1)
        XCTAssertEqual(output.errors.last?.description, "c.tune:1:1: error: there is nothing to continue: no sft or pt has run in this session yet")

        let flag = interpreter.cancel
        let watcher = Thread {
            for _ in 0..<6000 {
                let dirs = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
                if let v0 = dirs.first(where: { $0.hasPrefix("v0-") }),
                   let text = try? String(contentsOfFile: out + "/" + v0 + "/logging.jsonl", encoding: .utf8), !text.isEmpty {
                    flag.raise()
                    return
                }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        watcher.start()
        XCTAssertEqual(run("""
            sft --dataset \(data) --max_steps 6 --per_device_train_batch_size 1 --gradient_accumulation_steps 1 \
                --max_length 64 --logging_steps 1 --learning_rate 1e-3 --report_to none --output_dir \(out)
            """), 0, output.errors.description)
        let stopped = try XCTUnwrap(output.lines.first { $0.hasPrefix("stopped ") }, output.text)
        XCTAssertFalse(stopped.contains("6/6"), stopped)
        XCTAssertTrue(output.lines.contains { $0.hasPrefix("stopped at the step boundary; type continue to go on from the checkpoint") }, output.text)
        XCTAssertTrue(output.lines.contains { $0.hasPrefix("2 rows were left out (strict false): 1 malformed, 1 longer than max_length or not tokenizable; the first: \(data):3: ") },
                      output.text)
        let checkpoint = try XCTUnwrap(output.lines.first { $0.hasPrefix("checkpoint: ") }).dropFirst("checkpoint: ".count)
        let v0 = (checkpoint as NSString).deletingLastPathComponent
        let summary0 = try lastLine(v0 + "/logging.jsonl")
        XCTAssertEqual(summary0["dropped_rows"] as? Int, 2)
        XCTAssertNotNil(interpreter.session.adapter, "the partial adapter is live")

        output.lines = []
        XCTAssertEqual(run("continue"), 0, output.errors.description)
        let step = Int(checkpoint.split(separator: "-").last!)!
        XCTAssertEqual(output.lines.first, "continuing sft from \(checkpoint) (step \(step) of 6)")
        XCTAssertTrue(output.lines.contains { $0.hasPrefix("trained 6/6 steps") }, output.text)
        let runs = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix("v1-") }
        XCTAssertEqual(runs.count, 1)
        let v1 = out + "/" + runs[0]
        let lines = try String(contentsOfFile: v1 + "/logging.jsonl", encoding: .utf8).split(separator: "\n")
        let firstStep = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(firstStep["global_step/max_steps"] as? String, "\(step + 1)/6", "the continued run starts after the checkpoint")
        XCTAssertEqual(try lastLine(v1 + "/logging.jsonl")["dropped_rows"] as? Int, 2)
        let args = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: v1 + "/args.json"))) as? [String: Any])
        XCTAssertEqual(args["resume_from_checkpoint"] as? String, String(checkpoint))
        XCTAssertEqual(args["max_length"] as? Int, 64)

        XCTAssertEqual(run("continue"), 1)
        XCTAssertTrue(output.errors.last?.description.contains("there is nothing to continue: the last sft run already finished all its 6 steps") == true,
                      output.errors.description)

        // lazy_tokenize reaches the engine; with packing it is refused, as ms-swift refuses it.
        XCTAssertEqual(run("sft --dataset \(data) --lazy_tokenize true --packing true --max_length 64 --max_steps 1 --output_dir \(out)"), 1)
        XCTAssertTrue(output.errors.last?.description.contains("packing and lazy_tokenize cannot be used together (as in ms-swift)") == true,
                      output.errors.description)
    }

    private func lastLine(_ path: String) throws -> [String: Any] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let last = try XCTUnwrap(text.split(separator: "\n").last)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
    }
}
