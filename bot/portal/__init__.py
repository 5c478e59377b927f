"""The web portal: SLA compliance pages for managers and customers."""
