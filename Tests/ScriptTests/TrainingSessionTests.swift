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
}
