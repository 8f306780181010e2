"""python -m convcount"""

from convcount.cli import main

main()
