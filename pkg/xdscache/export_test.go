package xdscache

// TakeTranslated returns and resets the counts of resources translated
// since the last rebuild (or call), for tests that measure what a
// registration or rebuild translated.
func (c *Cache) TakeTranslated() Stats { return c.translator.TakeStats() }
