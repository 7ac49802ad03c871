import ArgumentParser
import TillApp

TillCommand.main()
