"""The translators' side: checking catalogs and measuring how complete they are."""
