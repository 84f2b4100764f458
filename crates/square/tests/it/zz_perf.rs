use crate::{setup_with, products};
use stocksync_domain::PosConnector;
#[tokio::test]
async fn perf_10k() {
    let t0 = std::time::Instant::now();
    let t = setup_with(products(10_000)).await;
    eprintln!("start {:?}", t0.elapsed());
    let t1 = std::time::Instant::now();
    let read = t.connector.read_stock(None).await.unwrap();
    eprintln!("full {:?} counts {} calls {}", t1.elapsed(), read.counts.len(), t.calls.total(crate::ACCOUNT));
    let refs = t.sim.product_refs();
    for r in refs.iter().step_by(997).take(10) { t.sim.till_sale(r, 1); }
    let t2 = std::time::Instant::now();
    let inc = t.connector.read_stock(read.cursor.as_deref()).await.unwrap();
    eprintln!("incr {:?} counts {} calls {}", t2.elapsed(), inc.counts.len(), t.calls.total(crate::ACCOUNT));
    let t3 = std::time::Instant::now();
    let found = t.connector.find_products(&stocksync_domain::pos::ProductQuery::Name("mug".into())).await.unwrap();
    eprintln!("find {:?} found {} calls {}", t3.elapsed(), found.len(), t.calls.total(crate::ACCOUNT));
}
