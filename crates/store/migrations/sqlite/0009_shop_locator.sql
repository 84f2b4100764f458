-- A webhook may name a shop item by its locator only (Shopify's inventory item): found by index.
CREATE INDEX stocksync_shop_items_locator ON stocksync_shop_items (locator);
