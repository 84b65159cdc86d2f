//! The experiments' figures, drawn with plotters into an SVG and a PNG of the same layout.
//! Text uses DejaVu Sans compiled into the binary, so a machine without fonts draws the same
//! picture.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// One line of a panel: points (x, y, ± spread), drawn with markers and, where a spread is
/// given, error bars.
#[derive(Clone, Debug)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64, Option<f64>)>,
    pub color: RGBColor,
    pub dashed: bool,
    pub markers: bool,
}

impl Series {
    pub fn new(label: impl Into<String>, color: RGBColor) -> Self {
        Series { label: label.into(), points: Vec::new(), color, dashed: false, markers: true }
    }
}

/// One chart of a figure.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Plot log10(y) (ticks labelled with y itself); points with y ≤ 0 are left out.
    pub log_y: bool,
    /// x ticks at whole numbers only (layers, depths).
    pub integer_x: bool,
    /// Names of the whole x values 1, 2, …, written at their ticks instead of the numbers
    /// (categories such as models); needs `integer_x`.
    pub x_names: Vec<String>,
    /// The least y range shown (in data units), e.g. 0–90° for angles; data beyond it widens it.
    pub y_range: Option<(f64, f64)>,
    /// Said in the middle of the panel when it has no points (e.g. why a model is missing).
    pub empty_note: String,
    /// Room above the data for the legend, as a fraction of the data's height.
    pub headroom: f64,
}

/// Panels in a grid under a title.
pub struct Figure {
    pub title: String,
    pub panels: Vec<Panel>,
    pub columns: usize,
}

/// Colours of the models, the same in every figure.
pub fn model_color(model: &str) -> RGBColor {
    match model {
        "BurstCCN" => RGBColor(31, 119, 180),
        "Burstprop" => RGBColor(255, 127, 14),
        "EDN" => RGBColor(44, 160, 44),
        "FA" => RGBColor(214, 39, 40),
        "Backprop" => RGBColor(40, 40, 40),
        _ => RGBColor(148, 103, 189),
    }
}

/// The i-th of n colours from dark blue to yellow (viridis' end points and middle), for
/// ordered series such as depths or layers.
pub fn sequential(i: usize, n: usize) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [(68.0, 1.0, 84.0), (59.0, 82.0, 139.0), (33.0, 145.0, 140.0), (94.0, 201.0, 98.0), (230.0, 200.0, 30.0)];
    let t = if n <= 1 { 0.0 } else { i as f64 / (n - 1) as f64 } * (STOPS.len() - 1) as f64;
    let k = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - k as f64;
    let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A palette of distinct colours for unordered series.
pub fn categorical(i: usize) -> RGBColor {
    const C: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    C[i % C.len()]
}

const PANEL_W: u32 = 560;
const PANEL_H: u32 = 400;
const TITLE_H: u32 = 44;

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu Sans is a valid font: this cannot fail.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    });
}

/// Write `stem.svg` and `stem.png`; returns their paths.
pub fn save(fig: &Figure, stem: &Path) -> Result<Vec<PathBuf>, String> {
    register_font();
    let cols = fig.columns.max(1).min(fig.panels.len().max(1));
    let rows = fig.panels.len().div_ceil(cols).max(1);
    let size = (PANEL_W * cols as u32, PANEL_H * rows as u32 + TITLE_H);
    let svg = stem.with_extension("svg");
    let png = stem.with_extension("png");
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        draw(fig, &root, cols, rows).map_err(|e| format!("drawing {}: {e}", svg.display()))?;
        root.present().map_err(|e| format!("writing {}: {e}", svg.display()))?;
    }
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        draw(fig, &root, cols, rows).map_err(|e| format!("drawing {}: {e}", png.display()))?;
        root.present().map_err(|e| format!("writing {}: {e}", png.display()))?;
    }
    Ok(vec![svg, png])
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(fig: &Figure, root: &DrawingArea<DB, Shift>, cols: usize, rows: usize) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(TITLE_H);
    title.draw(&Text::new(fig.title.clone(), (12, 12), ("sans-serif", 20).into_font().color(&BLACK)))?;
    let areas = body.split_evenly((rows, cols));
    for (panel, area) in fig.panels.iter().zip(areas.iter()) {
        draw_panel(panel, area)?;
    }
    Ok(())
}

fn y_of(panel: &Panel, y: f64) -> Option<f64> {
    if panel.log_y {
        (y > 0.0 && y.is_finite()).then(|| y.log10())
    } else {
        y.is_finite().then_some(y)
    }
}

/// Where the legend covers the fewest points of the lines (sampled along every segment):
/// upper right unless that hides data and another corner or side hides less.
fn legend_corner(panel: &Panel, (w, h): (u32, u32), (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> SeriesLabelPosition {
    let labelled: Vec<&Series> = panel.series.iter().filter(|s| !s.label.is_empty() && !s.points.is_empty()).collect();
    // The legend's size as a fraction of the plotting area (12 px labels, 18 px line marks,
    // the margins and label areas of `draw_panel`).
    let (plot_w, plot_h) = ((w as f64 - 62.0 - 24.0).max(1.0), (h as f64 - 42.0 - 24.0 - 22.0).max(1.0));
    let chars = labelled.iter().map(|s| s.label.chars().count()).max().unwrap_or(0) as f64;
    let fx = ((chars * 6.6 + 44.0) / plot_w).min(1.0);
    let fy = ((labelled.len() as f64 * 15.5 + 14.0) / plot_h).min(1.0);
    let mut samples: Vec<(f64, f64)> = Vec::new();
    for s in &panel.series {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter_map(|&(x, y, _)| Some(((x - x0) / (x1 - x0), (y_of(panel, y)? - y0) / (y1 - y0))))
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        samples.extend(pts.iter().copied());
        for seg in pts.windows(2) {
            for i in 1..24 {
                let t = i as f64 / 24.0;
                samples.push((seg[0].0 + t * (seg[1].0 - seg[0].0), seg[0].1 + t * (seg[1].1 - seg[0].1)));
            }
        }
    }
    let m = 0.03;
    let candidates = [
        (SeriesLabelPosition::UpperRight, (1.0 - fx - m, 1.0), (1.0 - fy - m, 1.0)),
        (SeriesLabelPosition::UpperLeft, (0.0, fx + m), (1.0 - fy - m, 1.0)),
        (SeriesLabelPosition::LowerRight, (1.0 - fx - m, 1.0), (0.0, fy + m)),
        (SeriesLabelPosition::LowerLeft, (0.0, fx + m), (0.0, fy + m)),
        (SeriesLabelPosition::MiddleRight, (1.0 - fx - m, 1.0), (0.5 - fy / 2.0 - m, 0.5 + fy / 2.0 + m)),
        (SeriesLabelPosition::MiddleLeft, (0.0, fx + m), (0.5 - fy / 2.0 - m, 0.5 + fy / 2.0 + m)),
    ];
    let covered = |(bx, by): ((f64, f64), (f64, f64))| samples.iter().filter(|p| p.0 >= bx.0 && p.0 <= bx.1 && p.1 >= by.0 && p.1 <= by.1).count();
    let mut best = (SeriesLabelPosition::UpperRight, usize::MAX);
    for (pos, bx, by) in candidates {
        let n = covered((bx, by));
        if n < best.1 {
            best = (pos, n);
        }
    }
    best.0
}

fn draw_panel<DB: DrawingBackend>(panel: &Panel, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    // The data's extent (error bars included), padded.
    let mut xs: Vec<f64> = Vec::new();
    let mut ys: Vec<f64> = Vec::new();
    for s in &panel.series {
        for &(x, y, e) in &s.points {
            if !x.is_finite() {
                continue;
            }
            let spread = e.filter(|e| e.is_finite()).unwrap_or(0.0);
            for v in [y - spread, y, y + spread] {
                if let Some(v) = y_of(panel, v) {
                    ys.push(v);
                    xs.push(x);
                }
            }
        }
    }
    let extent = |v: &[f64]| v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    let (mut x0, mut x1) = if xs.is_empty() { (0.0, 1.0) } else { extent(&xs) };
    let (mut y0, mut y1) = match (panel.y_range, ys.is_empty()) {
        (Some((a, b)), _) => {
            let (lo, hi) = if ys.is_empty() { (f64::INFINITY, f64::NEG_INFINITY) } else { extent(&ys) };
            (y_of(panel, a).unwrap_or(-1.0).min(lo), y_of(panel, b).unwrap_or(1.0).max(hi))
        }
        (None, true) => (0.0, 1.0),
        (None, false) => extent(&ys),
    };
    if panel.integer_x {
        x0 = x0.floor() - 0.5;
        x1 = x1.ceil() + 0.5;
    } else if x1 - x0 < 1e-12 {
        (x0, x1) = (x0 - 1.0, x1 + 1.0);
    } else {
        let pad = 0.03 * (x1 - x0);
        (x0, x1) = (x0 - pad, x1 + pad);
    }
    if panel.y_range.is_none() {
        if y1 - y0 < 1e-12 {
            let d = if y0.abs() > 1e-9 { 0.1 * y0.abs() } else { 1.0 };
            (y0, y1) = (y0 - d, y1 + d);
        } else {
            let pad = 0.06 * (y1 - y0);
            (y0, y1) = (y0 - pad, y1 + pad);
        }
    }
    y1 += panel.headroom * (y1 - y0);
    let mut chart = ChartBuilder::on(area)
        .caption(panel.title.clone(), ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(62)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let log_y = panel.log_y;
    let y_fmt = move |v: &f64| -> String {
        if log_y {
            // A decade: 0.001, 0.01, …, 1, 10, ….
            let p = 10f64.powf(*v);
            let digits = (-v.round()).max(0.0) as usize;
            format!("{p:.digits$}")
        } else {
            tick(*v)
        }
    };
    let names = &panel.x_names;
    let x_fmt = |v: &f64| -> String {
        if names.is_empty() {
            return tick(*v);
        }
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 1.0 && (i as usize) <= names.len() {
            names[i as usize - 1].clone()
        } else {
            String::new()
        }
    };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(panel.x_label.clone())
        .y_desc(panel.y_label.clone())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(RGBColor(235, 235, 235));
    if panel.integer_x {
        mesh.x_labels(((x1 - x0).round() as usize).clamp(2, 12));
    }
    if panel.log_y {
        // Ticks on whole decades.
        mesh.y_labels(((y1 - y0).ceil() as usize + 1).clamp(2, 12));
    }
    mesh.draw()?;
    let mut labelled = false;
    for s in &panel.series {
        let pts: Vec<(f64, f64)> = s.points.iter().filter_map(|&(x, y, _)| Some((x, y_of(panel, y)?))).filter(|p| p.0.is_finite()).collect();
        if pts.is_empty() {
            continue;
        }
        let style = ShapeStyle { color: s.color.to_rgba(), filled: true, stroke_width: 2 };
        let color = s.color;
        let anno = if s.dashed {
            chart.draw_series(DashedLineSeries::new(pts.clone(), 6, 4, style))?
        } else {
            chart.draw_series(LineSeries::new(pts.clone(), style))?
        };
        if !s.label.is_empty() {
            let dashed = s.dashed;
            anno.label(s.label.clone()).legend(move |(x, y)| {
                let st = ShapeStyle { color: color.to_rgba(), filled: true, stroke_width: 2 };
                if dashed {
                    EmptyElement::at((x, y)) + PathElement::new(vec![(0, 0), (7, 0)], st) + PathElement::new(vec![(11, 0), (18, 0)], st)
                } else {
                    EmptyElement::at((x, y)) + PathElement::new(vec![(0, 0), (18, 0)], st) + PathElement::new(vec![(0, 0), (0, 0)], st)
                }
            });
            labelled = true;
        }
        if s.markers {
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
        let bars: Vec<(f64, f64, f64, f64)> = s
            .points
            .iter()
            .filter_map(|&(x, y, e)| {
                let e = e.filter(|e| e.is_finite() && *e > 0.0)?;
                Some((x, y_of(panel, y - e).unwrap_or(y0), y_of(panel, y)?, y_of(panel, y + e)?))
            })
            .collect();
        chart.draw_series(bars.into_iter().map(|(x, lo, mid, hi)| ErrorBar::new_vertical(x, lo, mid, hi, color.stroke_width(1), 8)))?;
    }
    if labelled {
        chart
            .configure_series_labels()
            .position(legend_corner(panel, area.dim_in_pixel(), (x0, x1), (y0, y1)))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 12))
            .draw()?;
    }
    if xs.is_empty() && !panel.empty_note.is_empty() {
        let (_, h) = area.dim_in_pixel();
        for (i, line) in wrap(&panel.empty_note, 52).iter().enumerate() {
            area.draw(&Text::new(line.clone(), (80, h as i32 / 2 - 20 + 18 * i as i32), ("sans-serif", 14).into_font().color(&RGBColor(120, 120, 120))))?;
        }
    }
    Ok(())
}

/// A tick label: as few digits as the value needs.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.0e}")
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round())
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().unwrap();
        if !last.is_empty() && last.chars().count() + word.chars().count() + 1 > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel(points: &[(f64, f64)]) -> Panel {
        let mut s = Series::new("BurstCCN", model_color("BurstCCN"));
        s.points = points.iter().map(|&(x, y)| (x, y, None)).collect();
        Panel { series: vec![s.clone(), Series { label: "Burstprop".into(), ..s }], ..Panel::default() }
    }

    #[test]
    fn the_legend_goes_where_it_hides_no_line() {
        let size = (PANEL_W, PANEL_H);
        // Data low everywhere: the legend stays upper right.
        let low = panel(&[(0.0, 0.0), (1.0, 0.1), (2.0, 0.0)]);
        assert!(matches!(legend_corner(&low, size, (0.0, 2.0), (0.0, 1.0)), SeriesLabelPosition::UpperRight));
        // A line climbing into the upper right corner (the depth figure's Burstprop): not there.
        let rising = panel(&[(0.0, 0.1), (1.0, 0.2), (2.0, 1.0)]);
        let pos = legend_corner(&rising, size, (0.0, 2.0), (0.0, 1.0));
        assert!(matches!(pos, SeriesLabelPosition::UpperLeft), "{pos:?}");
        // Lines high everywhere (angles near 80°): below them.
        let high = panel(&[(0.0, 0.8), (1.0, 0.9), (2.0, 0.95)]);
        let pos = legend_corner(&high, size, (0.0, 2.0), (0.0, 1.0));
        assert!(matches!(pos, SeriesLabelPosition::LowerRight), "{pos:?}");
    }
}
