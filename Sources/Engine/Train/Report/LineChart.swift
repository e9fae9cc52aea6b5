import Foundation

/// A plain line chart of one scalar series, laid out as ms-swift's matplotlib figures are
/// (8×5 inches at 100 dpi: 800×500 pixels): the tag as title, a frame with ticks and labels on
/// both axes, the curve(s), a legend when there are two, and the series' min and max written
/// above the frame's left corner.
struct LineChart {
    var title: String
    /// (step, value) pairs; drawn in order.
    var points: [(x: Double, y: Double)]
    /// A second curve over the same steps drawn on top (the smoothed one), or nil.
    var smoothed: [Double]?
    var width = 800, height = 500

    static let rawColor = RGBImage.Color(hex: "#FFE2D9")!       // ms-swift's TB_COLOR
    static let curveColor = RGBImage.Color(hex: "#FF7043")!     // TB_COLOR_SMOOTH
    static let frameColor = RGBImage.Color(0x33, 0x33, 0x33)
    static let gridColor = RGBImage.Color(0xEE, 0xEE, 0xEE)
    static let textColor = RGBImage.Color(0x22, 0x22, 0x22)

    /// The plot area inside the frame.
    var plotLeft: Int { 96 }
    var plotRight: Int { width - 24 }
    var plotTop: Int { 64 }
    var plotBottom: Int { height - 56 }

    /// The data range shown on an axis: the values' span plus 5% each side (matplotlib's
    /// margins); a single value gets ±1 (or ±5% of itself).
    static func range(_ values: [Double]) -> (Double, Double) {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return (0, 1) }
        if hi == lo {
            let pad = lo == 0 ? 1 : abs(lo) * 0.05
            return (lo - pad, hi + pad)
        }
        let pad = (hi - lo) * 0.05
        return (lo - pad, hi + pad)
    }

    /// Tick positions at a 1, 2 or 5 × 10ⁿ spacing, five or six inside [lo, hi].
    static func ticks(_ lo: Double, _ hi: Double, integer: Bool = false) -> [Double] {
        guard hi > lo, (hi - lo).isFinite else { return [lo] }
        let rough = (hi - lo) / 6
        let magnitude = pow(10, floor(log10(rough)))
        var step = magnitude
        for m in [1.0, 2.0, 5.0, 10.0] where m * magnitude >= rough { step = m * magnitude; break }
        if integer { step = max(1, step.rounded()) }
        var out: [Double] = []
        var t = (lo / step).rounded(.up) * step
        while t <= hi + step * 1e-9 && out.count < 50 {
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    static func label(_ v: Double) -> String {
        PythonFormat.general4(v)
    }

    func render() -> RGBImage {
        var image = RGBImage(width: width, height: height)
        let xs = points.map(\.x)
        let ys = points.map(\.y) + (smoothed ?? [])
        let (x0, x1) = Self.range(xs)
        let (y0, y1) = Self.range(ys)
        // Pixel offsets are clamped well outside the image, so huge or odd values cannot trap.
        func offset(_ fraction: Double, _ span: Int) -> Int {
            let v = fraction * Double(span)
            return v.isNaN ? 0 : Int(min(1e6, max(-1e6, v)).rounded())
        }
        func px(_ x: Double) -> Int { plotLeft + offset((x - x0) / (x1 - x0), plotRight - plotLeft) }
        func py(_ y: Double) -> Int { plotBottom - offset((y - y0) / (y1 - y0), plotBottom - plotTop) }

        // Grid and ticks.
        for t in Self.ticks(y0, y1) {
            let y = py(t)
            image.fill(x: plotLeft, y: y, width: plotRight - plotLeft, height: 1, Self.gridColor)
            image.fill(x: plotLeft - 6, y: y, width: 6, height: 1, Self.frameColor)
            let text = Self.label(t)
            BitmapFont.draw(text, x: plotLeft - 10 - BitmapFont.width(text, scale: 2), y: y - 7, scale: 2,
                            color: Self.textColor, on: &image)
        }
        for t in Self.ticks(x0, x1, integer: true) {
            let x = px(t)
            image.fill(x: x, y: plotTop, width: 1, height: plotBottom - plotTop, Self.gridColor)
            image.fill(x: x, y: plotBottom + 1, width: 1, height: 6, Self.frameColor)
            let text = Self.label(t)
            BitmapFont.draw(text, x: x - BitmapFont.width(text, scale: 2) / 2, y: plotBottom + 12, scale: 2,
                            color: Self.textColor, on: &image)
        }
        // Frame.
        image.fill(x: plotLeft, y: plotTop, width: plotRight - plotLeft + 1, height: 1, Self.frameColor)
        image.fill(x: plotLeft, y: plotBottom, width: plotRight - plotLeft + 1, height: 1, Self.frameColor)
        image.fill(x: plotLeft, y: plotTop, width: 1, height: plotBottom - plotTop + 1, Self.frameColor)
        image.fill(x: plotRight, y: plotTop, width: 1, height: plotBottom - plotTop + 1, Self.frameColor)

        // Curves: a single point is a dot, as matplotlib's scatter draws it.
        func curve(_ values: [Double], _ color: RGBImage.Color) {
            var previous: (x: Int, y: Int)?
            for (p, v) in zip(points, values) {
                guard v.isFinite else { previous = nil; continue }
                let q = (x: px(p.x), y: py(v))
                if let previous { image.line(from: previous, to: q, color, thickness: 2) }
                previous = q
            }
        }
        if points.count == 1 {
            if points[0].y.isFinite { image.disc(centerX: px(points[0].x), centerY: py(points[0].y), radius: 4, Self.curveColor) }
        } else if let smoothed {
            curve(points.map(\.y), Self.rawColor)
            curve(smoothed, Self.curveColor)
            legend(on: &image)
        } else {
            curve(points.map(\.y), Self.curveColor)
        }

        // Title, and the extremes of the raw series.
        BitmapFont.draw(title, x: (width - BitmapFont.width(title, scale: 3)) / 2, y: 12, scale: 3,
                        color: Self.textColor, on: &image)
        let finite = points.map(\.y).filter(\.isFinite)
        if let lo = finite.min(), let hi = finite.max() {
            BitmapFont.draw("min \(Self.label(lo))  max \(Self.label(hi))", x: plotLeft, y: plotTop - 22, scale: 2,
                            color: Self.textColor, on: &image)
        }
        return image
    }

    private func legend(on image: inout RGBImage) {
        let entries = [("original", Self.rawColor), ("smoothed", Self.curveColor)]
        let boxWidth = 24 + 8 + BitmapFont.width("smoothed", scale: 2) + 16
        let left = plotRight - 8 - boxWidth
        var y = plotTop + 8
        image.fill(x: left, y: y, width: boxWidth, height: 2 * 22 + 8, .white)
        for (name, color) in entries {
            image.fill(x: left + 8, y: y + 11, width: 24, height: 3, color)
            BitmapFont.draw(name, x: left + 40, y: y + 6, scale: 2, color: Self.textColor, on: &image)
            y += 22
        }
    }
}
