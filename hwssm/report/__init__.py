"""Reports: plots and tables (data in, figures out). matplotlib is used only here, with the Agg canvas."""
