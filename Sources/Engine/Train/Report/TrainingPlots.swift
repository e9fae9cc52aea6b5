import Foundation

/// The images ms-swift's `plot_images` draws after training (with TensorBoard reporting on):
/// one PNG per scalar tag in `output_dir/images`, named after the tag with "/" and "." turned
/// into "_" (`train_loss.png`, `train_learning_rate.png`, `eval_loss.png`, ...); `train/loss`
/// also gets TensorBoard's smoothed curve (weight 0.9) over the raw one; a series of one
/// value is a single dot.
public enum TrainingPlots {
    public static let smoothedTags: Set<String> = ["train/loss"]
    public static let smoothingWeight = 0.9

    public static func fileName(forTag tag: String) -> String {
        tag.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ".", with: "_") + ".png"
    }

    /// TensorBoard's (and ms-swift's `tensorboard_smoothing`) debiased exponential moving average.
    public static func smooth(_ values: [Double], weight: Double = smoothingWeight) -> [Double] {
        var x = 0.0, norm = 0.0
        return values.map { v in
            x = x * weight + v
            norm = norm * weight + 1
            return x / norm
        }
    }

    /// The chart of one series.
    public static func chart(tag: String, points: [ScalarPoint]) -> RGBImage {
        let xy = points.map { (x: Double($0.step), y: Double($0.value)) }
        let smoothed = smoothedTags.contains(tag) && points.count > 1 ? smooth(xy.map(\.y)) : nil
        return LineChart(title: tag, points: xy, smoothed: smoothed).render()
    }

    /// Writes one PNG per non-empty series into `imagesDirectory` (created when missing) and
    /// returns the paths written.
    @discardableResult
    public static func write(_ scalars: [(tag: String, points: [ScalarPoint])], to imagesDirectory: String) throws -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: imagesDirectory, withIntermediateDirectories: true)
        } catch {
            throw FileError(path: imagesDirectory, problem: "cannot create the directory: \(error.localizedDescription)")
        }
        var written: [String] = []
        for (tag, points) in scalars where !points.isEmpty {
            let path = (imagesDirectory as NSString).appendingPathComponent(fileName(forTag: tag))
            let png = PNGEncoder.encode(chart(tag: tag, points: points))
            guard FileManager.default.createFile(atPath: path, contents: Data(png)) else {
                throw FileError(path: path, problem: "cannot write the image")
            }
            written.append(path)
        }
        return written
    }

    /// Draws the scalars of the first event file found under `logDirectory` (searched
    /// recursively, as ms-swift's `plot_images` does) into `imagesDirectory`; nothing when
    /// there is none.
    @discardableResult
    public static func write(fromEventsUnder logDirectory: String, to imagesDirectory: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: logDirectory) else { return [] }
        let files = walker.compactMap { $0 as? String }
            .filter { ($0 as NSString).lastPathComponent.hasPrefix("events.out.tfevents.") }
            .sorted()
        guard let first = files.first else { return [] }
        let path = (logDirectory as NSString).appendingPathComponent(first)
        return try write(TensorBoardEventReader.scalars(path: path), to: imagesDirectory)
    }
}
