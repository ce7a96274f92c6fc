extension Blitter {
    /// One ASCII character's ink per quarter and the constants of its least-squares fit:
    /// a quarter shows background x (1 - ink) + foreground x ink, so the squared error of a
    /// channel is a quadratic in (background, foreground) with these coefficients.
    private struct ASCIIModel {
        let coverage: SIMD4<Float>
        /// Sum of (1 - ink)^2, of ink^2 and of ink x (1 - ink) over the four quarters.
        let paper: Float, ink: Float, mixed: Float
        let determinant: Float
        /// The ink less its mean, and 1 / its squared length: how much of a cell's contrast
        /// the character's shape explains, unconstrained (for the shortlist).
        let centred: SIMD4<Float>
        let inverseVariance: Float
    }

    /// How many characters, best explaining a cell's contrast, get the full fit.
    static let asciiShortlist = 8

    /// The characters worth trying: every one but the space, whose ink differs between quarters.
    private static let asciiModels: [(index: UInt8, model: ASCIIModel)] = asciiGlyphCoverage.indices.dropFirst().compactMap { index in
        let c = asciiGlyphCoverage[index].coverage
        let centred = c - SIMD4(repeating: c.sum() / 4)
        let variance = (centred * centred).sum()
        guard variance > 1e-4 else { return nil }
        let paper = ((1 - c) * (1 - c)).sum(), ink = (c * c).sum(), mixed = (c * (1 - c)).sum()
        return (
            UInt8(index),
            ASCIIModel(
                coverage: c, paper: paper, ink: ink, mixed: mixed, determinant: paper * ink - mixed * mixed, centred: centred,
                inverseVariance: 1 / variance)
        )
    }

    /// ASCII cells: for each cell, each character's two colours are fitted by least squares
    /// to the cell's four pixels within what a terminal can show (0 to 255 a channel); the
    /// character with the least squared error wins, the space (the cell's mean colour) when
    /// none does better. Only the `asciiShortlist` characters whose shape best explains the
    /// cell's contrast (unconstrained) get that fit, as chafa keeps a few candidates by shape
    /// before scoring colours. The ink of a character covers at most about a third of a quarter,
    /// so strong edges come out softened: the space's mean colour carries most of the picture.
    func asciiCells(pixels: [UInt8], columns: Int, rows: Int, colorMode: ColorMode, into cells: inout [Cell]) {
        let stride = columns * 2 * 3
        let models = Blitter.asciiModels
        var shortlist = [Int](repeating: 0, count: Blitter.asciiShortlist)
        var scores = [Float](repeating: 0, count: Blitter.asciiShortlist)
        let zero = SIMD4<Float>(repeating: 0), full = SIMD4<Float>(repeating: 255)
        func channel(_ row: UnsafeBufferPointer<UInt8>, _ offset: Int, _ channel: Int) -> SIMD4<Float> {
            SIMD4(
                Float(row[offset + channel]), Float(row[offset + 3 + channel]),
                Float(row[offset + stride + channel]), Float(row[offset + stride + 3 + channel]))
        }
        func byte(_ value: Float) -> UInt8 { UInt8(min(255, max(0, value.rounded()))) }
        pixels.withUnsafeBufferPointer { source in
            cells.withUnsafeMutableBufferPointer { output in
                for row in 0..<rows {
                    for column in 0..<columns {
                        let origin = row * 2 * stride + column * 2 * 3
                        let r = channel(source, origin, 0), g = channel(source, origin, 1), b = channel(source, origin, 2)
                        let meanR = r.sum() / 4, meanG = g.sum() / 4, meanB = b.sum() / 4
                        let dr = r - SIMD4(repeating: meanR), dg = g - SIMD4(repeating: meanG), db = b - SIMD4(repeating: meanB)
                        var bestError = (dr * dr + dg * dg + db * db).sum()
                        var best: (index: UInt8, background: SIMD4<Float>, foreground: SIMD4<Float>)? = nil
                        // A cell whose pixels are within 4 levels of their mean (root mean square) is a space.
                        if bestError > 3 * 4 * 16 {
                            let pixelsSquared = SIMD4<Float>((r * r).sum(), (g * g).sum(), (b * b).sum(), 0)
                            let total = SIMD4<Float>(r.sum(), g.sum(), b.sum(), 0)
                            // The shortlist: explained contrast, summed over the channels, best first.
                            var listed = 0
                            for candidate in models.indices {
                                let centred = models[candidate].model.centred
                                let dots = SIMD4<Float>((centred * dr).sum(), (centred * dg).sum(), (centred * db).sum(), 0)
                                let explained = (dots * dots).sum() * models[candidate].model.inverseVariance
                                if listed == shortlist.count && explained <= scores[listed - 1] { continue }
                                var slot = min(listed, shortlist.count - 1)
                                while slot > 0 && scores[slot - 1] < explained {
                                    scores[slot] = scores[slot - 1]
                                    shortlist[slot] = shortlist[slot - 1]
                                    slot -= 1
                                }
                                scores[slot] = explained
                                shortlist[slot] = candidate
                                listed = min(listed + 1, shortlist.count)
                            }
                            for slot in 0..<listed {
                                let (index, model) = models[shortlist[slot]]
                                let c = model.coverage
                                // Per channel (lanes r, g, b): v = sum ink x pixel, u = sum (1 - ink) x pixel.
                                let v = SIMD4<Float>((c * r).sum(), (c * g).sum(), (c * b).sum(), 0)
                                let u = total - v
                                func error(_ background: SIMD4<Float>, _ foreground: SIMD4<Float>) -> SIMD4<Float> {
                                    let squares: SIMD4<Float> = background * background * model.paper + foreground * foreground * model.ink
                                    let cross: SIMD4<Float> = background * (foreground * (2 * model.mixed) - 2 * u)
                                    return squares + cross - foreground * (2 * v) + pixelsSquared
                                }
                                // The unconstrained optimum, then, where a channel leaves 0...255, the best
                                // point on each edge of the square: the fit is convex, so one of them is it.
                                var background = ((u * model.ink - v * model.mixed) / model.determinant)
                                var foreground = ((v * model.paper - u * model.mixed) / model.determinant)
                                let outside = (background .< zero) .| (background .> full) .| (foreground .< zero) .| (foreground .> full)
                                var bestLane = error(background, foreground)
                                if any(outside) {
                                    bestLane.replace(with: SIMD4(repeating: .infinity), where: outside)
                                    func consider(_ candidateBackground: SIMD4<Float>, _ candidateForeground: SIMD4<Float>) {
                                        let candidate = error(candidateBackground, candidateForeground)
                                        let better = candidate .< bestLane
                                        bestLane.replace(with: candidate, where: better)
                                        background.replace(with: candidateBackground, where: better)
                                        foreground.replace(with: candidateForeground, where: better)
                                    }
                                    func foregroundFit(_ background: SIMD4<Float>) -> SIMD4<Float> {
                                        ((v - background * model.mixed) / model.ink).clamped(lowerBound: zero, upperBound: full)
                                    }
                                    func backgroundFit(_ foreground: SIMD4<Float>) -> SIMD4<Float> {
                                        ((u - foreground * model.mixed) / model.paper).clamped(lowerBound: zero, upperBound: full)
                                    }
                                    consider(zero, foregroundFit(zero))
                                    consider(full, foregroundFit(full))
                                    consider(backgroundFit(zero), zero)
                                    consider(backgroundFit(full), full)
                                }
                                let error = bestLane[0] + bestLane[1] + bestLane[2]
                                if error < bestError {
                                    bestError = error
                                    best = (index, background, foreground)
                                }
                            }
                        }
                        let cell: Cell
                        if let best {
                            cell = Cell(
                                mask: best.index,
                                foreground: RGB(byte(best.foreground[0]), byte(best.foreground[1]), byte(best.foreground[2])),
                                background: RGB(byte(best.background[0]), byte(best.background[1]), byte(best.background[2])))
                        } else {
                            let mean = RGB(byte(meanR), byte(meanG), byte(meanB))
                            cell = Cell(mask: 0, foreground: mean, background: mean)
                        }
                        output[row * columns + column] = cell.shown(in: colorMode)
                    }
                }
            }
        }
    }
}
