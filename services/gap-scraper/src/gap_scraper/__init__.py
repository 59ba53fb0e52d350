"""gap_scraper."""
