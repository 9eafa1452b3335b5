//! SVG plots of a WEBRC run: the wave shape (each channel's rate over time, from the sender's
//! schedule) and each receiver's reception against its link capacity.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use rmt_reference::webrc::schedule::{Schedule, WebrcParams};

use super::webrc::WebrcLabReport;

/// Packets per second of each channel (CN 0..T-1 waves, T base) in bins of TSD/10 over
/// `cycles` cycles of T slots: (bin start times, rates per channel).
pub fn channel_rates(
    params: &WebrcParams,
    cycles: u32,
) -> Result<(Vec<f64>, Vec<Vec<f64>>), String> {
    let mut schedule = Schedule::new(params.clone())?;
    let t = params.t() as usize;
    let bin = params.tsd.as_secs_f64() / 10.0;
    let end = params.tsd.as_secs_f64() * f64::from(params.t()) * f64::from(cycles.max(1));
    let bins = (end / bin).ceil() as usize;
    let mut counts = vec![vec![0u64; bins]; t + 1];
    // Bounded: schedule times grow; the loop ends at `end`.
    loop {
        let p = schedule.next();
        let at = p.at.as_secs_f64();
        if at >= end {
            break;
        }
        let cn = usize::from(p.cci.cn).min(t);
        counts[cn][((at / bin) as usize).min(bins - 1)] += 1;
    }
    let times = (0..bins).map(|i| i as f64 * bin).collect();
    let rates = counts
        .into_iter()
        .map(|c| c.into_iter().map(|n| n as f64 / bin).collect())
        .collect();
    Ok((times, rates))
}

fn plot_error(e: impl std::fmt::Display) -> String {
    format!("plot: {e}")
}

type TimeChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A chart over time (seconds, 0..end) of a quantity (0..top), its mesh drawn.
fn time_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    caption: String,
    end: f64,
    top: f64,
    y_desc: &str,
) -> Result<TimeChart<'a, 'b>, String> {
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..top)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc(y_desc)
        .draw()
        .map_err(plot_error)?;
    Ok(chart)
}

/// `waves.svg`: the rate of every channel over two cycles.
pub fn plot_waves(params: &WebrcParams, path: &Path) -> Result<(), String> {
    let (times, rates) = channel_rates(params, 2)?;
    let top = rates.iter().flatten().fold(1.0f64, |m, r| m.max(*r)) * 1.05;
    let root = SVGBackend::new(path, (1100, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let end = times.last().copied().unwrap_or(1.0);
    let caption = format!(
        "WEBRC channels: N = {} waves, T = {}, TSD = {} s, P = {}, BCR_P = {} pkt/s",
        params.n,
        params.t(),
        params.tsd.as_secs_f64(),
        params.p,
        params.bcr_p
    );
    let mut chart = time_chart(&root, caption, end, top, "packets/s")?;
    let t = rates.len() - 1;
    for (cn, r) in rates.iter().enumerate() {
        let style = if cn == t {
            BLACK.stroke_width(2)
        } else {
            Palette99::pick(cn).stroke_width(1)
        };
        let series = chart
            .draw_series(LineSeries::new(
                times.iter().copied().zip(r.iter().copied()),
                style,
            ))
            .map_err(plot_error)?;
        if cn == t {
            series.label(format!("base channel (CN {t})"));
        }
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(plot_error)?;
    root.present().map_err(plot_error)
}

/// `receivers.svg`: each receiver's reception per second against its capacity (thin line),
/// and the competing TCP flow where there is one.
pub fn plot_receivers(report: &WebrcLabReport, path: &Path) -> Result<(), String> {
    let end = report
        .receivers
        .iter()
        .map(|r| r.per_second_mbit.len())
        .max()
        .unwrap_or(1) as f64;
    let top = report
        .receivers
        .iter()
        .flat_map(|r| {
            r.per_second_mbit
                .iter()
                .chain(&r.tcp_per_second_mbit)
                .chain(std::iter::once(&r.capacity_mbit))
        })
        .fold(1.0f64, |m, r| m.max(*r))
        * 1.1;
    let root = SVGBackend::new(path, (1100, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let caption = format!(
        "WEBRC receivers ({} links, measured after {} s)",
        report.overlay.name(),
        report.warmup_s
    );
    let mut chart = time_chart(&root, caption, end, top, "Mbit/s")?;
    for (i, r) in report.receivers.iter().enumerate() {
        let colour = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                r.per_second_mbit
                    .iter()
                    .enumerate()
                    .map(|(s, m)| (s as f64, *m)),
                colour.stroke_width(2),
            ))
            .map_err(plot_error)?
            .label(format!(
                "{} ({}): {:.2} Mbit/s, {:.0}% of link",
                r.host,
                r.link,
                r.mean_mbit,
                r.ratio * 100.0
            ))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        chart
            .draw_series(LineSeries::new(
                [(0.0, r.capacity_mbit), (end, r.capacity_mbit)],
                colour.stroke_width(1),
            ))
            .map_err(plot_error)?;
        if !r.tcp_per_second_mbit.is_empty() {
            chart
                .draw_series(LineSeries::new(
                    r.tcp_per_second_mbit
                        .iter()
                        .enumerate()
                        .map(|(s, m)| (s as f64, *m)),
                    BLACK.stroke_width(1),
                ))
                .map_err(plot_error)?
                .label(format!(
                    "TCP on {}'s link: {:.2} Mbit/s",
                    r.host,
                    r.tcp_mean_mbit.unwrap_or(0.0)
                ))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(plot_error)?;
    root.present().map_err(plot_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wave_shape_decays_by_p_per_slot_and_the_plot_is_written() {
        let params = WebrcParams::fast(4);
        let (times, rates) = channel_rates(&params, 2).unwrap();
        assert_eq!(rates.len(), params.t() as usize + 1);
        // Wave 3 (CN 3) over its active slots: its mean rate per slot falls by about P each
        // slot, as §3.1.2 prescribes (first slots excepted).
        let per_slot: Vec<f64> = rates[3]
            .chunks(10)
            .map(|c| c.iter().sum::<f64>() / c.len() as f64)
            .collect();
        let active: Vec<f64> = per_slot.iter().copied().filter(|r| *r > 0.0).collect();
        assert!(active.len() >= 4, "{per_slot:?}");
        for w in active.windows(2).skip(1).take(2) {
            let ratio = w[1] / w[0];
            assert!((ratio - params.p).abs() < 0.1, "{per_slot:?}");
        }
        assert_eq!(times.len(), rates[0].len());
        let dir = std::env::temp_dir().join(format!("rmt-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("waves.svg");
        plot_waves(&params, &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.contains("<polyline"), "lines drawn");
        assert!(svg.contains("base channel"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
