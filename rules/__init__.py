"""Pure domain rules, free of I/O: used by workflows, activities, the API and tests alike."""
